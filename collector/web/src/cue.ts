/**
 * The cue for a new high-priority alert: a short beep (WebAudio) and a flash
 * of the banner. Browsers allow sound only after the user interacted with the
 * page, so the AudioContext is made on the first click or key press, and the
 * sound is off until the user turns it on. With prefers-reduced-motion the
 * banner does not flash; it just stays highlighted.
 */

let audio: AudioContext | null = null;
let soundOn = false;

export function armAudioOnFirstInteraction(): void {
  const arm = () => {
    audio ??= new AudioContext();
    void audio.resume();
  };
  window.addEventListener('pointerdown', arm, { once: true });
  window.addEventListener('keydown', arm, { once: true });
}

export function setSound(on: boolean): void {
  soundOn = on;
  if (on) {
    audio ??= new AudioContext();
    void audio.resume();
  }
}

export const soundEnabled = () => soundOn;

function beep(): void {
  if (!soundOn || !audio || audio.state !== 'running') return;
  const now = audio.currentTime;
  // Two short tones, as bedside high-priority alarms are patterned (IEC 60601-1-8 style, much simplified).
  for (const [start, freq] of [
    [0, 880],
    [0.25, 660],
  ] as const) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + start);
    gain.gain.exponentialRampToValueAtTime(0.2, now + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + start);
    osc.stop(now + start + 0.22);
  }
}

/** A new high-priority alert: banner text, flash (unless reduced motion), beep (if on). */
export function highPriorityCue(text: string): void {
  const banner = document.getElementById('banner');
  if (banner) {
    banner.textContent = text;
    banner.hidden = false;
    banner.classList.remove('flash');
    if (!window.matchMedia('(prefers-reduced-motion: reduce)').matches) {
      void banner.offsetWidth; // restart the animation
      banner.classList.add('flash');
    }
  }
  beep();
}

export function clearCue(): void {
  const banner = document.getElementById('banner');
  if (banner) banner.hidden = true;
}

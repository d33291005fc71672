import { type Me, currentUser, onSignedOut, signIn, signOut, storedToken } from './api.js';
import { errorText } from './dom.js';
import { alertsView } from './alerts-view.js';
import { openAlerts } from './alerts-model.js';
import { armAudioOnFirstInteraction, clearCue, setSound, soundEnabled } from './cue.js';
import { deviceView } from './device.js';
import { dueView } from './due.js';
import { fleetView } from './fleet.js';
import type { View } from './view.js';

/**
 * The dashboard's entry: sign-in, the navigation, and a hash router
 * (#/fleet, #/alerts, #/due, #/device/{id}). Hash routes keep every page one
 * document, so the live stream and the token survive moving between them.
 */

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let stopView: () => void = () => {};

function route(): { name: string; view: View } {
  const hash = location.hash.replace(/^#\/?/, '');
  if (hash.startsWith('device/')) return { name: 'fleet', view: deviceView(decodeURIComponent(hash.slice('device/'.length))) };
  if (hash === 'alerts') return { name: 'alerts', view: alertsView };
  if (hash === 'due') return { name: 'due', view: dueView };
  return { name: 'fleet', view: fleetView };
}

function show(): void {
  stopView();
  if (!currentUser()) return;
  const { name, view } = route();
  for (const a of $('nav').querySelectorAll('a')) a.classList.toggle('current', a.dataset.view === name);
  const root = $('view');
  root.replaceChildren();
  stopView = view(root);
}

function signedIn(me: Me): void {
  $('sign-in').hidden = true;
  $('view').hidden = false;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('sound').hidden = false;
  const who = $('who');
  who.hidden = false;
  who.textContent = `${me.sub} · ${me.role}`;
  who.dataset.role = me.role;
  openAlerts.start();
  show();
}

function signedOutView(message: string): void {
  stopView();
  stopView = () => {};
  openAlerts.stop();
  clearCue();
  $('sign-in').hidden = false;
  $('view').hidden = true;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sound').hidden = true;
  $('sign-in-error').textContent = message;
}

function alertBadge(): void {
  const open = openAlerts.list();
  const badge = $('alert-count');
  badge.hidden = open.length === 0;
  badge.textContent = String(open.length);
  badge.classList.toggle(
    'high',
    open.some((a) => a.priority === 'high' && a.state === 'active'),
  );
}

async function start(): Promise<void> {
  armAudioOnFirstInteraction();
  onSignedOut(signedOutView);
  openAlerts.subscribe(alertBadge);
  window.addEventListener('hashchange', show);
  $('sign-out').addEventListener('click', () => signOut());
  $('sound').addEventListener('click', () => {
    setSound(!soundEnabled());
    $('sound').textContent = `Sound: ${soundEnabled() ? 'on' : 'off'}`;
  });
  $('banner').addEventListener('click', () => {
    location.hash = '#/alerts';
  });
  $<HTMLFormElement>('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $<HTMLTextAreaElement>('token').value.trim();
    $('sign-in-error').textContent = '';
    try {
      const me = await signIn(token);
      $<HTMLTextAreaElement>('token').value = '';
      signedIn(me);
    } catch (err) {
      $('sign-in-error').textContent = `Not signed in: ${errorText(err)}`;
    }
  });
  const token = storedToken();
  if (token) {
    try {
      signedIn(await signIn(token));
    } catch {
      signedOutView('Your saved token was refused: sign in again.');
    }
  }
}

void start();

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { redisSettings } from '../collector/dist/cluster/redis-config.js';
import { loadCollectorConfig } from '../collector/dist/config.js';
import { ROOT, tempDir } from './helpers.js';

/**
 * The Kubernetes overlays as a cluster would receive them: rendered by
 * `kubectl kustomize` (whatever kubectl is on PATH, or $KUBECTL: Debian's 1.20
 * with kustomize v2.0.3 and current ones must both render them), every object
 * validated offline against the Kubernetes API schemas (kubernetes-models), and
 * the rules the docs promise checked on the result.
 */

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary YAML; the schema check below types them.
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };

const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const OVERLAYS = ['single', 'multi', 'multi-ingest-rate'] as const;

function render(overlay: string): K8sObject[] {
  const out = execFileSync(KUBECTL, ['kustomize', join(ROOT, 'k8s/overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && Object.keys(o).length > 0);
}

/** kubernetes-models (and its prometheus-operator package) hold one class per apiVersion/kind with the API's JSON schema. */
async function validate(object: K8sObject): Promise<void> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${object.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(o)])) as Record<(typeof OVERLAYS)[number], K8sObject[]>;
const find = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: K8sObject[], kind: string) => {
  const found = find(objects, kind);
  expect(
    found.map((o) => o.metadata.name),
    kind,
  ).toHaveLength(1);
  return found[0] as K8sObject;
};
const workload = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as K8sObject;

const baseKustomization = readFileSync(join(ROOT, 'k8s/base/kustomization.yaml'), 'utf8');
const imageMatch = /images:\s*\n\s*- name: medtel-collector\s*\n\s*newName: (\S+)\s*\n\s*newTag: (\S+)/.exec(baseKustomization);

describe('the offline schema check', () => {
  it('refuses what the API server would refuse', async () => {
    const bad = structuredClone(workload(rendered.single));
    bad.spec.replicas = 'one';
    await expect(validate(bad)).rejects.toThrow(/replicas/);
    await expect(validate({ ...bad, kind: 'StatefulSett' })).rejects.toThrow();
  });
});

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay) => {
  const objects = rendered[overlay];

  it('renders objects that validate against the Kubernetes API schemas', async () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const object of objects) {
      await expect(validate(object), `${object.kind}/${object.metadata.name}`).resolves.toBeUndefined();
    }
  });

  it('runs the collector non-root with a read-only root filesystem, no capabilities and the runtime seccomp profile', () => {
    const pod = workload(objects).spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect(c.securityContext, c.name).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.resources?.requests && c.resources?.limits, `${c.name} resources`).toBeTruthy();
    }
    const tmp = pod.containers[0].volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir).toBeDefined();
  });

  it('probes /healthz for liveness and /readyz for readiness, on the HTTP port', () => {
    const [collector] = workload(objects).spec.template.spec.containers;
    expect(collector.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(collector.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('takes every image from the one place, the base kustomization', () => {
    expect(imageMatch, 'images: in k8s/base/kustomization.yaml').not.toBeNull();
    const pod = workload(objects).spec.template.spec;
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) expect(c.image, c.name).toBe(`${imageMatch?.[1]}:${imageMatch?.[2]}`);
  });

  it('exposes MQTT/TLS and HTTP only, lets only those in, and is scraped through a ServiceMonitor', () => {
    const ports = find(objects, 'Service').flatMap((s) => s.spec.ports.map((p: { port: number }) => p.port));
    expect(new Set(ports)).toEqual(new Set([8883, 8080]));
    const policy = one(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port)).sort()).toEqual([8080, 8883]);
    const monitor = one(objects, 'ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
  });

  it('references its Secrets by name and commits no secret values', () => {
    expect(find(objects, 'Secret')).toEqual([]);
    const pod = workload(objects).spec.template.spec;
    const secrets = pod.volumes.filter((v: { secret?: unknown }) => v.secret).map((v: { secret: { secretName: string } }) => v.secret.secretName);
    expect(secrets).toEqual(expect.arrayContaining(['medtel-collector-tls', 'medtel-collector-signing-key']));
    const config = one(objects, 'ConfigMap').metadata.name;
    expect(pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap)?.configMap.name).toBe(config);
  });
});

describe('the single-replica overlay (SQLite)', () => {
  const objects = rendered.single;

  it('is one StatefulSet replica with a volume claim for the SQLite store, and no autoscaler', () => {
    expect(find(objects, 'Deployment')).toEqual([]);
    expect(find(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    const set = one(objects, 'StatefulSet');
    expect(set.spec.replicas).toBe(1);
    const [claim] = set.spec.volumeClaimTemplates;
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    const data = set.spec.template.spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
    const config = one(objects, 'ConfigMap').data?.['collector.yaml'] ?? '';
    expect(config).toContain(`path: ${data.mountPath}/collector.db`);
    expect(find(objects, 'Service').map((s) => s.metadata.name)).toContain(set.spec.serviceName);
  });

  it('gives the collector a config it accepts, with every file where the pod mounts one', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'collector.yaml');
      writeFileSync(file, one(objects, 'ConfigMap').data?.['collector.yaml'] ?? '');
      const config = loadCollectorConfig(file);
      const pod = one(objects, 'StatefulSet').spec.template.spec;
      const mounts: string[] = pod.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      for (const path of [config.store.path, config.auth.keyFile, config.mqtt.tls?.certFile, config.mqtt.tls?.keyFile])
        expect(
          mounts.some((m) => path?.startsWith(`${m}/`)),
          `${path} is on a mounted volume`,
        ).toBe(true);
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.mqtt.plain.enabled).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('has a disruption budget that lets a node drain evict its only pod', () => {
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBeUndefined();
    expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
  });
});

describe.each(['multi', 'multi-ingest-rate'] as const)('the multi-replica overlay (%s)', (overlay) => {
  const objects = rendered[overlay];

  it('autoscales the Deployment on CPU, spreads replicas over nodes, and keeps the budget consistent with the minimum', () => {
    const deployment = one(objects, 'Deployment');
    const hpa = one(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
    expect(deployment.spec.replicas).toBe(hpa.spec.minReplicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);

    const [term] = deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    expect(term.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    // The term must select this Deployment's own pods (a subset of its selector's labels is enough).
    expect(deployment.spec.selector.matchLabels).toMatchObject(term.podAffinityTerm.labelSelector.matchLabels);

    // At the minimum, a drain may take some replicas but never all of them.
    const pdb = one(objects, 'PodDisruptionBudget');
    const mayLose = pdb.spec.maxUnavailable ?? hpa.spec.minReplicas - pdb.spec.minAvailable;
    expect(mayLose).toBeGreaterThanOrEqual(1);
    expect(hpa.spec.minReplicas - mayLose).toBeGreaterThanOrEqual(2);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('uses the scale-out settings (store: postgres://, redis: redis://) with passwords from a Secret, and may reach them', () => {
    const config = one(objects, 'ConfigMap').data?.['collector.yaml'] ?? '';
    expect(config).toMatch(/^store: postgres:\/\/[^:@\s]+@/m);
    expect(config).toMatch(/^redis: redis:\/\/[^:@\s]+@/m);
    const env = one(objects, 'Deployment').spec.template.spec.containers[0].env;
    for (const name of ['PGPASSWORD', 'REDIS_PASSWORD'])
      expect(env.find((e: { name: string }) => e.name === name)?.valueFrom.secretKeyRef.name, name).toBe('medtel-collector-backends');
    const egress = one(objects, 'NetworkPolicy').spec.egress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port));
    expect(egress).toEqual(expect.arrayContaining([53, 5432, 6379]));
  });

  it('gives the collector a config it accepts: PostgreSQL and Redis without passwords in it, every file where the pod mounts one', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'collector.yaml');
      writeFileSync(file, one(objects, 'ConfigMap').data?.['collector.yaml'] ?? '');
      const config = loadCollectorConfig(file);
      // The store is PostgreSQL (not the SQLite default), its password comes from PGPASSWORD (node-postgres reads it).
      const store = new URL(config.store.url ?? '');
      expect(store.protocol).toBe('postgres:');
      expect(store.username).not.toBe('');
      expect(store.password).toBe('');
      expect(config.store.passwordFile).toBeUndefined();
      // Redis: the collector resolves the password from REDIS_PASSWORD, which the Deployment takes from the Secret.
      expect(config.redis, 'redis:').toBeDefined();
      const redis = redisSettings(config.redis as NonNullable<typeof config.redis>, dir.path, { REDIS_PASSWORD: 'from-the-secret' });
      expect(redis.password).toBe('from-the-secret');
      expect(new URL(redis.url).password).toBe('');
      const pod = one(objects, 'Deployment').spec.template.spec;
      const mounts: string[] = pod.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      for (const path of [config.auth.keyFile, config.mqtt.tls?.certFile, config.mqtt.tls?.keyFile])
        expect(
          mounts.some((m) => path?.startsWith(`${m}/`)),
          `${path} is on a mounted volume`,
        ).toBe(true);
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.mqtt.plain.enabled).toBe(false);
    } finally {
      dir.remove();
    }
  });
});

describe('the ingest-rate autoscaling overlay', () => {
  it('adds the per-pod ingest rate from prometheus-adapter to the CPU metric', () => {
    const hpa = one(rendered['multi-ingest-rate'], 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'Pods']);
    expect(hpa.spec.metrics[1].pods.metric.name).toBe('medtel_ingest_messages_per_second');
  });
});

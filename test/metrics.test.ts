// Metrics as Prometheus scrapes them: from the plain-HTTP port, with the
// `webhook` label, the API server's buckets, in-flight and build-info gauges,
// and the Kubernetes API calls counted by verb, resource and code.
import t from 'tap';
import http from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseServeArgs } from '../src/config.js';
import { startServer } from '../src/serve.js';
import { LATENCY_BUCKETS, Metrics } from '../src/server/metrics.js';
import { observeKubeCalls } from '../src/cluster/kube-call.js';
import { createKubeStore } from '../src/cluster/kube-store.js';
import { FakeApiServer, unusedUrl } from './helpers/fake-apiserver.js';
import { fakeKubeConfig } from './helpers/kubeconfig.js';
import { freePort } from './helpers/free-port.js';
import { FIXTURE_RESOURCES, h1, sampleSidecarPodReview } from './helpers/server.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
const RESOURCES = FIXTURE_RESOURCES;

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, res => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => {
            body += d;
          })
          .on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      })
      .once('error', reject);
  });
}

const review = sampleSidecarPodReview;

t.test('the plain-HTTP port: /metrics, /healthz, /readyz; the TLS port keeps its probes', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'vw-metrics-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const metricsPort = await freePort();
  const cfg = {
    ...parseServeArgs(
      [
        '--standalone',
        '--resources',
        RESOURCES,
        '--cert-dir',
        dir,
        '--host',
        '127.0.0.1',
        '--metrics-port',
        String(metricsPort),
        '--shutdown-timeout',
        '5s',
      ],
      {},
    ),
    port: 0,
  };
  const running = await startServer(cfg, pino({ level: 'silent' }));
  let stopped = false;
  t.teardown(() => (stopped ? undefined : running.shutdown()));
  t.equal(running.metricsPort, metricsPort);
  const tls = { port: running.port, ca: readFileSync(join(dir, 'ca.crt'), 'utf8') };
  t.equal((await h1(tls, 'POST', '/mutate-v1-pod-sidecar', review())).json().response.patchType, 'JSONPatch');

  const m = await get(metricsPort, '/metrics');
  t.equal(m.status, 200);
  t.match(m.type, /^text\/plain/);
  t.match(m.body, /vineyard_webhook_requests_total\{webhook="sidecar",operation="CREATE",result="patched"\} 1/);
  t.match(m.body, `vineyard_webhook_build_info{version="${VERSION}",node="${process.version}"} 1`);
  t.match(m.body, /vineyard_webhook_requests_in_flight\{webhook="sidecar"\} 0/, 'in flight: back to 0 once answered');
  t.match(m.body, /process_cpu_seconds_total/, "Node's process metrics");
  const ours = m.body.split('\n').filter(l => l.startsWith('vineyard_webhook_'));
  t.notOk(
    ours.some(l => /[{,]endpoint="/.test(l)),
    "no `endpoint` label, which Prometheus' operator would rename",
  );
  const les = [
    ...m.body.matchAll(/vineyard_webhook_request_duration_seconds_bucket\{le="([^"]+)",webhook="sidecar"\}/g),
  ].map(x => x[1]);
  t.same(
    les,
    ['0.005', '0.025', '0.1', '0.5', '1', '2.5', '10', '25', '+Inf'],
    "the API server's admission webhook buckets, up to 25 s",
  );

  for (const path of ['/healthz', '/readyz']) {
    t.equal((await get(metricsPort, path)).status, 200, `${path} over plain HTTP`);
    t.equal((await h1(tls, 'GET', path)).status, 200, `${path} still over TLS`);
  }
  const other = await get(metricsPort, '/mutate-v1-pod-sidecar');
  t.equal(other.status, 404, 'no webhook on the plain port');
  t.match(JSON.parse(other.body).reason, /the webhooks are on the TLS port/);

  // A request whose body never ends holds the drain open (up to --shutdown-timeout).
  const held = tlsConnect({
    host: '127.0.0.1',
    port: running.port,
    ca: tls.ca,
    servername: 'localhost',
    ALPNProtocols: ['http/1.1'],
  });
  await new Promise<void>((resolve, reject) => held.once('secureConnect', resolve).once('error', reject));
  held.on('error', () => {});
  held.write(
    'POST /mutate-v1-pod-sidecar HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
  );
  while (running.app.inFlight() === 0) await new Promise(r => setTimeout(r, 10));
  stopped = true;
  const shutdown = running.shutdown();
  const draining = await get(metricsPort, '/readyz');
  t.equal(draining.status, 503, 'not ready from the first moment of a drain');
  t.match(JSON.parse(draining.body), { reason: 'shutting down' });
  held.destroy();
  await shutdown;
  await t.rejects(get(metricsPort, '/healthz'), /ECONNREFUSED/, 'closed with the server');
});

t.test('--metrics-port: 0 turns it off; a taken port or the TLS port is refused naming the flag', async t => {
  t.equal(parseServeArgs([], {}).metricsPort, 8080, 'default 8080, as controller-runtime');
  t.equal(parseServeArgs(['--metrics-port', '0'], {}).metricsPort, 0);
  t.throws(() => parseServeArgs(['--metrics-port', 'x'], {}), { message: /^--metrics-port: "x" is not a port number/ });
  t.throws(() => parseServeArgs(['--metrics-port', '9443'], {}), { message: /^--metrics-port: 9443 is also --port/ });

  const dir = await mkdtemp(join(tmpdir(), 'vw-metrics-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const off = await startServer(
    {
      ...parseServeArgs(['--standalone', '--cert-dir', dir, '--host', '127.0.0.1', '--metrics-port', '0'], {}),
      port: 0,
    },
    pino({ level: 'silent' }),
  );
  t.equal(off.metricsPort, undefined, 'no metrics port');
  await off.shutdown();

  const taken = createServer();
  await new Promise<void>(r => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    taken.close();
  });
  const port = (taken.address() as AddressInfo).port;
  await t.rejects(
    startServer(
      {
        ...parseServeArgs(
          ['--standalone', '--cert-dir', dir, '--host', '127.0.0.1', '--metrics-port', String(port)],
          {},
        ),
        port: 0,
      },
      pino({ level: 'silent' }),
    ),
    {
      name: 'UsageError',
      message: new RegExp(
        `^--metrics-port ${port}: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\); choose another port, or 0`,
      ),
    },
  );
});

t.test('Kubernetes API requests are counted by verb, resource and code', async t => {
  const metrics = new Metrics(false);
  observeKubeCalls((verb, resource, code) => metrics.apiRequests.inc({ verb, resource, code }));
  t.teardown(() => observeKubeCalls(undefined));
  const api = await FakeApiServer.start({ objects: [] });
  t.teardown(() => api.close());
  const store = createKubeStore(fakeKubeConfig(api.url));
  await store.ping();
  t.equal(await store.getSidecar('ns', 'missing'), null);
  await t.rejects(createKubeStore(fakeKubeConfig(await unusedUrl()), { timeoutMs: 2000 }).ping());
  const text = await metrics.registry.getSingleMetricAsString('vineyard_webhook_api_requests_total');
  t.match(text, 'vineyard_webhook_api_requests_total{verb="get",resource="/version",code="200"} 1');
  t.match(text, 'vineyard_webhook_api_requests_total{verb="get",resource="sidecars",code="404"} 1');
  t.match(
    text,
    'vineyard_webhook_api_requests_total{verb="get",resource="/version",code="<error>"} 1',
    'no answer: <error>',
  );
});

t.test("LATENCY_BUCKETS are the API server's admission webhook buckets", async t => {
  t.same(LATENCY_BUCKETS, [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 25]);
});

// A webhook that answers every review with a JSON Patch that cannot apply:
// the API server must refuse the object, which proves the suite sees what the
// API server does with a patch rather than trusting our own patch checks.
import https from 'node:https';
import type { KeyPairPem } from '../../src/certs/issue.js';

export interface WrongPatchWebhook {
  url: string;
  calls(): number;
  close(): Promise<void>;
}

export async function startWrongPatchWebhook(tls: KeyPairPem): Promise<WrongPatchWebhook> {
  let calls = 0;
  const srv = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls++;
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        apiVersion: string;
        request: { uid: string };
      };
      const patch = [{ op: 'add', path: '/spec/no-such-field/child', value: 1 }];
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: review.apiVersion,
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: true,
            patchType: 'JSONPatch',
            patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          },
        }),
      );
    });
  });
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    calls: () => calls,
    close: () =>
      new Promise(resolve => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

// The certificate profile kube-apiserver (Go's crypto/x509) needs, read back
// with two independent parsers: node-forge and Node's X509Certificate (OpenSSL).
import t from 'tap';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { BACKDATE_MS, issueCa, issueServing, serialNumber } from '../src/certs/issue.js';
import { serviceSans } from '../src/certs/secret-mode.js';
import { caRotationAt, servingRenewalAt } from '../src/certs/renewal.js';

const DAY = 86_400_000;
const SHA256_RSA = '1.2.840.113549.1.1.11';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const now = new Date('2030-03-01T12:00:00Z');
const sans = [
  ...serviceSans({ name: 'vineyard-webhook', namespace: 'vineyard-system' }),
  'webhook.example.com',
  '10.0.0.7',
];

interface Ext {
  critical?: boolean;
  [k: string]: unknown;
}
const ext = (c: forge.pki.Certificate, name: string) => c.getExtension(name) as Ext | null;
/** The serial's DER content bytes (what Go reads as a big.Int). */
const serialBytes = (c: forge.pki.Certificate) => Buffer.from(c.serialNumber, 'hex');

const ca = await issueCa('vineyard-webhook-ca', { validityMs: 365 * DAY, now });
const serving = await issueServing(ca, {
  commonName: 'vineyard-webhook.vineyard-system.svc',
  sans,
  validityMs: 30 * DAY,
  now,
});
const fCa = forge.pki.certificateFromPem(ca.cert);
const fSrv = forge.pki.certificateFromPem(serving.cert);
const xCa = new X509Certificate(ca.cert);
const xSrv = new X509Certificate(serving.cert);

t.test('serials are 16 bytes, positive and minimally encoded', async t => {
  for (const c of [fCa, fSrv]) {
    const b = serialBytes(c);
    t.equal(b.length, 16);
    t.ok(b[0]! < 0x80 && b[0]! > 0, `leading byte ${b[0]} keeps the INTEGER positive and minimal`);
  }
  for (let i = 0; i < 500; i++) {
    const b = Buffer.from(serialNumber(), 'hex');
    if (b.length !== 16 || b[0]! >= 0x80 || b[0] === 0) t.fail(`bad serial ${b.toString('hex')}`);
  }
  t.not(fCa.serialNumber, fSrv.serialNumber);
  t.equal(xSrv.serialNumber.toLowerCase(), fSrv.serialNumber.toLowerCase(), 'OpenSSL reads the same serial');
});

t.test('both are signed with sha256WithRSAEncryption and RSA-2048 keys', async t => {
  for (const c of [fCa, fSrv]) {
    t.equal(c.signatureOid, SHA256_RSA);
    t.equal(c.siginfo.algorithmOid, SHA256_RSA);
  }
  for (const pem of [ca.key, serving.key]) {
    t.equal(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength, 2048);
  }
  t.ok(xCa.verify(xCa.publicKey), 'the CA is self-signed');
  t.ok(xSrv.verify(xCa.publicKey), 'the serving certificate is signed by the CA');
  t.ok(xSrv.checkIssued(xCa));
  t.ok(xSrv.checkPrivateKey(createPrivateKey(serving.key)));
});

t.test('the CA profile', async t => {
  t.equal(xCa.ca, true);
  const bc = ext(fCa, 'basicConstraints')!;
  t.equal(bc.cA, true);
  t.equal(bc.critical, true);
  const ku = ext(fCa, 'keyUsage')!;
  t.equal(ku.critical, true);
  t.same(
    {
      keyCertSign: ku.keyCertSign,
      cRLSign: ku.cRLSign,
      digitalSignature: ku.digitalSignature,
      keyEncipherment: ku.keyEncipherment,
    },
    { keyCertSign: true, cRLSign: true, digitalSignature: false, keyEncipherment: false },
  );
  t.ok(ext(fCa, 'subjectKeyIdentifier')?.subjectKeyIdentifier, 'has a subject key identifier');
  t.equal(fCa.validity.notBefore.getTime(), now.getTime() - BACKDATE_MS, 'notBefore one hour back');
  t.equal(fCa.validity.notAfter.getTime(), now.getTime() + 365 * DAY);
  t.equal(xCa.subject, xCa.issuer);
});

t.test('the serving profile', async t => {
  t.equal(xSrv.ca, false);
  const bc = ext(fSrv, 'basicConstraints')!;
  t.equal(bc.cA, false);
  const ku = ext(fSrv, 'keyUsage')!;
  t.same(
    { digitalSignature: ku.digitalSignature, keyEncipherment: ku.keyEncipherment, keyCertSign: ku.keyCertSign },
    { digitalSignature: true, keyEncipherment: true, keyCertSign: false },
  );
  t.same(xSrv.keyUsage, [SERVER_AUTH], 'extKeyUsage serverAuth only');
  t.same(
    xSrv.subjectAltName!.split(', ').sort(),
    [
      'DNS:vineyard-webhook',
      'DNS:vineyard-webhook.vineyard-system',
      'DNS:vineyard-webhook.vineyard-system.svc',
      'DNS:vineyard-webhook.vineyard-system.svc.cluster.local',
      'DNS:webhook.example.com',
      'IP Address:10.0.0.7',
    ].sort(),
  );
  const aki = ext(fSrv, 'authorityKeyIdentifier')!;
  const keyId = (forge.asn1.fromDer(aki.value as string).value as forge.asn1.Asn1[])[0]!;
  t.equal(keyId.tagClass, forge.asn1.Class.CONTEXT_SPECIFIC);
  const akiHex = forge.util.bytesToHex(keyId.value as string);
  t.equal(akiHex, ext(fCa, 'subjectKeyIdentifier')!.subjectKeyIdentifier, "AKI = the CA's SKI");
  t.not(xSrv.subject, xCa.subject, 'subject differs from the issuer');
  t.equal(xSrv.issuer, xCa.subject);
  t.equal(fSrv.validity.notBefore.getTime(), now.getTime() - BACKDATE_MS);
  t.equal(fSrv.validity.notAfter.getTime(), now.getTime() + 30 * DAY);
  t.ok(xSrv.checkHost('vineyard-webhook.vineyard-system.svc'));
  t.ok(xSrv.checkIP('10.0.0.7'));
});

t.test('a serving certificate never outlives its CA', async t => {
  const shortCa = await issueCa('short-ca', { validityMs: 10 * DAY, now });
  const s = await issueServing(shortCa, { commonName: 'svc', sans: ['svc'], validityMs: 30 * DAY, now });
  t.equal(new X509Certificate(s.cert).validToDate.getTime(), new X509Certificate(shortCa.cert).validToDate.getTime());
});

t.test("a serving certificate with its CA's subject or no SAN is refused", async t => {
  await t.rejects(issueServing(ca, { commonName: 'vineyard-webhook-ca', sans: ['x'], validityMs: DAY }), /must differ/);
  await t.rejects(issueServing(ca, { commonName: 'x', sans: [], validityMs: DAY }), /subject alternative name/);
});

t.test('renewal points count life from issuance, not from the back-dated notBefore', async t => {
  const v = { notBefore: fSrv.validity.notBefore, notAfter: fSrv.validity.notAfter };
  t.equal(servingRenewalAt(v), now.getTime() + 20 * DAY, 'serving: at 2/3 of 30 days');
  t.equal(
    caRotationAt({ notBefore: fCa.validity.notBefore, notAfter: fCa.validity.notAfter }),
    now.getTime() + (365 * DAY * 2) / 3,
    'CA: when a third of 365 days remains',
  );
  // Lifetimes of seconds (tests, tiny --cert-validity) are not swallowed by the back-dating hour.
  const short = { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + 3000) };
  t.equal(servingRenewalAt(short), now.getTime() + 2000);
});

// Go's crypto/x509 is what kube-apiserver verifies us with. Optional: skipped without a Go toolchain.
const GO_VERIFY = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

func main() {
	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(os.Args[1])
	if !roots.AppendCertsFromPEM(caPEM) { fmt.Println("no CA"); os.Exit(1) }
	leafPEM, _ := os.ReadFile(os.Args[2])
	block, _ := pem.Decode(leafPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil { fmt.Println("parse:", err); os.Exit(1) }
	if leaf.SerialNumber.Sign() <= 0 { fmt.Println("serial not positive"); os.Exit(1) }
	at, _ := time.Parse(time.RFC3339, os.Args[4])
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: os.Args[3], CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil { fmt.Println("verify:", err); os.Exit(1) }
	fmt.Println("ok")
}
`;

const run = promisify(execFile);
const noGo = await run('go', ['version']).then(
  () => false,
  () => 'no Go toolchain (optional check)',
);

t.test("Go's crypto/x509 verifies the chain for the Service name", { skip: noGo }, async t => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-go-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'main.go'), GO_VERIFY);
  await writeFile(join(dir, 'ca.crt'), ca.cert);
  await writeFile(join(dir, 'tls.crt'), serving.cert);
  const env = { ...process.env, GO111MODULE: 'off', GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'certs-go-cache') };
  const at = new Date(now.getTime() + DAY).toISOString();
  const { stdout } = await run(
    'go',
    [
      'run',
      join(dir, 'main.go'),
      join(dir, 'ca.crt'),
      join(dir, 'tls.crt'),
      'vineyard-webhook.vineyard-system.svc',
      at,
    ],
    { env },
  );
  t.equal(stdout.trim(), 'ok');
  const wrongName = await run(
    'go',
    ['run', join(dir, 'main.go'), join(dir, 'ca.crt'), join(dir, 'tls.crt'), 'other.example.com', at],
    { env },
  ).then(
    () => 'ok',
    (e: { stdout: string }) => e.stdout.trim(),
  );
  t.match(wrongName, /verify: x509: certificate is valid for/, 'and refuses a name outside the SANs');
});

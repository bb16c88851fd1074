import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

/**
 * The protobufjs root OpenTelemetry generated from the official OTLP .proto files:
 * @opentelemetry/otlp-transformer 0.214 (installed under the alias `otlp-transformer-0.214`) is the
 * last release that ships it. Later releases encode by hand, so decoding with them would check the
 * exporter against itself. Loaded once, for metrics and traces alike.
 */
export function otlpGeneratedRoot<T>(): T {
  generatedRoot ??= createRequire(import.meta.url)('otlp-transformer-0.214/build/src/generated/root.js');
  return generatedRoot as T;
}
let generatedRoot: unknown;

/** One OTLP/HTTP request body as it arrived, un-gzipped when it was gzipped. */
export interface OtlpHttpBody {
  readonly body: Buffer;
  readonly contentType: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly headers: IncomingHttpHeaders;
  /** `identity` or `gzip`. */
  readonly encoding: string;
  /** Bytes on the wire, before un-gzipping. */
  readonly wireBytes: number;
}

export interface OtlpHttpEndpoint {
  /** The URL to export to (`http://127.0.0.1:<port><path>`). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback OTLP/HTTP endpoint for one signal's `path`: every POST there is handed to `handle`;
 * anything else (another method or path, an unknown content-encoding), and whatever `handle`
 * throws, goes to `onError`. The answer is `status()` either way, as a collector's would be.
 */
export async function serveOtlpHttp(path: string, handle: (body: OtlpHttpBody) => void, onError: (err: Error) => void, status: () => number = () => 200): Promise<OtlpHttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      const json = contentType.startsWith('application/json');
      try {
        if (req.method !== 'POST' || req.url !== path) throw new Error(`unexpected ${req.method} ${req.url}`);
        const encoding = req.headers['content-encoding'] ?? 'identity';
        if (encoding !== 'identity' && encoding !== 'gzip') throw new Error(`unexpected content-encoding ${encoding}`);
        const wire = Buffer.concat(chunks);
        const body = encoding === 'gzip' ? gunzipSync(wire) : wire;
        handle({ body, contentType, protocol: json ? 'http/json' : 'http/protobuf', headers: req.headers, encoding, wireBytes: wire.length });
      } catch (err) {
        onError(err as Error);
      }
      res.writeHead(status(), { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

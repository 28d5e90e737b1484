/** An SQS-compatible server (`local-aws-sqs`) on a free loopback port, for tests that use the real AWS SDK. */
import { SQSClient } from "@aws-sdk/client-sqs";
import { freePort } from "./redis";

export interface TestSqs {
  endpoint: string;
  client: SQSClient;
  stop(): Promise<void>;
}

export async function startSqs(): Promise<TestSqs> {
  const { createSqsServer } = await import("local-aws-sqs");
  const port = await freePort();
  const server = await createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => (server as unknown as { close(cb: () => void): void }).close(() => resolve()));
    },
  };
}

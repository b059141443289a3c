// A separate process running the identity service on a given data dir, so a test can kill -9 it mid-write.
import { startIdentity } from '@gatehouse/testing/start-identity';

const [dataDir, port, database] = process.argv.slice(2);
const running = await startIdentity({ dataDir: dataDir!, port: Number(port), ...(database ? { database } : {}) });
process.stdout.write(`ready ${running.port}\n`);
process.on('SIGTERM', () => {
  void running.stop().then(() => process.exit(0));
});

/**
 * Run as a child process by test/hostile-streams.test.ts: a ChatClient (plain transport) connects
 * to the port in argv[2], asks for the user list, and prints one JSON line per error it reports
 * and "closed" when the connection ends, then exits. A client that spins on a poisoned stream
 * never gets that far: the parent's timeout catches it.
 */
import { ChatClient } from '../../client/chat-client.ts';
import { validateProfile } from '../../core/profile.ts';

const profile = validateProfile({ name: 'poisoned-stream-child', transport: 'plain' });
const client = await ChatClient.connect({ profile, host: '127.0.0.1', port: Number(process.argv[2]), trust: { caPems: [] }, connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
client.on('error', (e: Error & { details?: { protocolCode?: string }; code?: string }) => console.log(JSON.stringify({ error: e.details?.protocolCode ?? e.code ?? e.message })));
client.on('close', () => {
  console.log('closed');
  process.exit(0);
});
client.users().catch(() => {});

/** Reads a TCP service's greeting line (SMTP `220`, IMAP `* OK`), bounded. */
import { connect } from 'node:net';
import { checkDelay } from '../core/delay.ts';

export function readGreeting(host: string, port: number, timeoutMs: number): Promise<string> {
  const delay = checkDelay(timeoutMs, `greeting timeout of ${host}:${port}`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no greeting from ${host}:${port} within ${timeoutMs} ms`));
    }, delay);
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.split('\n')[0]!.trim());
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

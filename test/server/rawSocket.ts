import net from 'node:net';

/** What a raw socket saw: the bytes answered, and whether the server closed it. */
export interface SocketOutcome {
  answer: string;
  /** The status line's code, or null when the server closed without answering. */
  status: number | null;
  /** Bytes of the request the client had written when the socket closed. */
  written: number;
}

/**
 * Opens a socket to `url` and writes `head` at once, then `trickle` one byte every `everyMs`
 * until the server closes the socket (the promise resolves) or the bytes run out (it keeps
 * waiting: the server must still end it). Nothing here decides by time: the server does.
 */
export function trickleRequest(url: string, head: string, trickle = '', everyMs = 100, localAddress?: string): Promise<SocketOutcome> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: Number(port), host: hostname, localAddress });
    let answer = '';
    let written = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      written += Buffer.byteLength(head);
      let i = 0;
      timer = setInterval(() => {
        if (i >= trickle.length || socket.destroyed) return clearInterval(timer);
        socket.write(trickle[i++]);
        written++;
      }, everyMs);
    });
    socket.on('data', (d) => (answer += d.toString('utf8')));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
    });
    socket.on('close', () => {
      clearInterval(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ answer, status: m ? Number(m[1]) : null, written });
    });
  });
}

/** The JSON body of a raw HTTP answer (after the blank line). */
export function bodyOf(answer: string): any {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import * as gallery from '../../server/services/gallery.service';

/**
 * bench:release -- --buffered: the real server (dist/server/main.js) with the gallery's ZIP held whole in
 * memory before a byte is sent — the mistake the ZIP memory ratio must catch. Nothing of it is in the server.
 */
const streamed = gallery.zipSelection;
(gallery as { zipSelection: typeof streamed }).zipSelection = async (...args) => {
  const zip = await streamed(...args);
  const whole = await buffer(zip.stream);
  return { ...zip, stream: Readable.from([whole]) };
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../server/main');

import QRCode from 'qrcode';

/**
 * The otpauth:// URI as a QR code, drawn as SVG on the server (no script, no image request). The SVG is
 * built here from the module matrix only — numbers, no text from the request — so it is safe to embed.
 */
export function totpQrSvg(uri: string): string | null {
  const qr = qrPath(uri);
  if (!qr) return null;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${qr.size} ${qr.size}" shape-rendering="crispEdges" role="img"><rect width="${qr.size}" height="${qr.size}" fill="#fff"/><path d="${qr.path}" fill="#000"/></svg>`;
}

/** A QR code as one SVG path (dark modules) and the side of its square, quiet zone included; null if the text does not fit. */
export function qrPath(text: string): { size: number; path: string } | null {
  try {
    const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
    const size = modules.size;
    const quiet = 4;
    let path = '';
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        if (modules.get(y, x)) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
      }
    }
    return { size: size + quiet * 2, path };
  } catch {
    return null;
  }
}

import QRCode from 'qrcode';

/**
 * The otpauth:// URI as a QR code, drawn as SVG on the server (no script, no image request). The SVG is
 * built here from the module matrix only — numbers, no text from the request — so it is safe to embed.
 */
export function totpQrSvg(uri: string): string | null {
  try {
    const { modules } = QRCode.create(uri, { errorCorrectionLevel: 'M' });
    const size = modules.size;
    const quiet = 4;
    let path = '';
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        if (modules.get(y, x)) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
      }
    }
    const full = size + quiet * 2;
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges" role="img"><rect width="${full}" height="${full}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
  } catch {
    return null;
  }
}

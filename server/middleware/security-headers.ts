import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Security headers on every response (helmet). The content security policy is one the coming pages can
 * live with: everything from this origin, nothing inline, no third parties (no CDN, no trackers); blob:
 * for a clip recorded or chosen in the browser and played back before sending; never framed.
 */
const helmetMiddleware = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'data:', 'blob:'],
      'media-src': ["'self'", 'blob:'],
      'font-src': ["'self'"],
      'connect-src': ["'self'"],
      'worker-src': ["'self'", 'blob:'],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
    },
  },
  // Contributors at risk: the pages never tell another site where someone came from.
  referrerPolicy: { policy: 'no-referrer' },
});

/** The camera and microphone for recording a clip on this site only; no location, ever. */
const PERMISSIONS_POLICY = 'camera=(self), microphone=(self), geolocation=(), payment=(), usb=()';

export function securityHeaders() {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.set('Permissions-Policy', PERMISSIONS_POLICY);
    helmetMiddleware(req, res, next);
  };
}

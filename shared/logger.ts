import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * pino to stdout. Child loggers carry { requestId } or { submissionId, jobId, step }.
 * Never log IP addresses, user agents, contact details or original filenames: the redaction below is a
 * safety net for mistakes, not a licence to pass such values to the logger.
 */
export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream }): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    base: { service: options.name },
    redact: {
      paths: [
        'contactEmail',
        '*.contactEmail',
        'originalname',
        '*.originalname',
        'ip',
        '*.ip',
        'headers',
        '*.headers',
        'authorization',
        '*.authorization',
        'statusToken',
        '*.statusToken',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // stdout, unless a destination is given (tests read what was logged).
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

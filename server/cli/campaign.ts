import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config';
import { connectDatabase } from '../../shared/db';
import { createCampaign, publicCampaign } from '../services/campaign.service';

/**
 * Campaigns from the command line (until the moderators' web pages exist):
 *   npm run campaign -- create path/to/campaign.json     (format: infra/local/demo-campaign.json)
 *   npm run campaign -- list
 */
async function main(argv: string[]): Promise<void> {
  const [command, file] = argv;
  const config = loadConfig();
  const db = await connectDatabase(config.mongo.url);
  try {
    if (command === 'create' && file) {
      const campaign = await createCampaign(db, JSON.parse(await readFile(file, 'utf8')) as never, new Date());
      process.stdout.write(`created campaign "${campaign.slug}" (${campaign.languages.join(', ')})\n`);
    } else if (command === 'list') {
      for (const campaign of await db.campaigns.find().sort({ createdAt: 1 }).lean()) {
        const view = publicCampaign(campaign, new Date());
        process.stdout.write(`${view.slug}\t${view.open ? 'open' : 'closed'}\t${view.languages.join(',')}\t${view.name}\n`);
      }
    } else {
      process.stderr.write('usage: npm run campaign -- create <campaign.json> | list\n');
      process.exitCode = 2;
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`campaign: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

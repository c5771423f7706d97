import { readdirSync, readFileSync } from 'node:fs';

/**
 * The SmartSync.xml example of seed 003 (Resco SmartSync), as the seed prints it: read from
 * ../shared/seeds where the checkout has it, else the copy below.
 */
export function seed003SmartSyncXml(): string {
  const dir = new URL('../../../shared/seeds/', import.meta.url);
  let text: string;
  try {
    const file = readdirSync(dir).find((f) => f.startsWith('003_'))!;
    text = readFileSync(new URL(file, dir), 'utf8');
  } catch {
    text = SEED_COPY;
  }
  const start = text.indexOf('<SmartSyncSetup>');
  const end = text.indexOf('</SmartSyncSetup>') + '</SmartSyncSetup>'.length;
  return text.slice(start, end);
}

// The same example, for checkouts without ../shared.
const SEED_COPY = `<SmartSyncSetup>
<SmartSync Name="GetTasks" SyncAction="DownSync" SyncMethod="Default" GlobalExclusions="true" AutoExclusions="true">
<Description>retrieve tasks from the server every 5 minutes</Description>
<Entities>
<Entity Name="task" WithRelated="false" Deep="false">
</Entity>
</Entities>
</SmartSync>
<Trigger Launch="GetTasks" Delay="300" Action="PeriodicSync">
</Trigger>
</SmartSyncSetup>`;

import type { DataConverter } from '@temporalio/common';
import { resolve } from 'node:path';
import { AesGcmPayloadCodec } from './payload-codec';
import type { PayloadKeyring } from './payload-codec';

/** Path of the failure converter module, for `bundleWorkflowCode` and `DataConverter.failureConverterPath`. */
export const failureConverterPath = resolve(__dirname, 'failure-converter.js');

/**
 * The data converter of every Temporal client and worker of the project: encrypted payloads, encrypted
 * failure messages. `keyring` undefined means no encryption (only the benchmark's "codec off" run and the
 * test that proves the at-rest check would see plain text use that).
 */
export function projectDataConverter(keyring: PayloadKeyring | undefined): DataConverter {
  return {
    failureConverterPath,
    ...(keyring ? { payloadCodecs: [new AesGcmPayloadCodec(keyring)] } : {}),
  };
}

import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { thrownBy } from '@tierkv/test-utils';
import { L1Manager } from '../../src/l1/l1-manager.js';
import { StorageManager } from '../../src/manager/storage-manager.js';

describe('unknown options are refused (issue 15)', () => {
  it('StorageManager: storeQueueLimitByte (a typo) names the key and the close match', () => {
    const err = thrownBy(() => new StorageManager({ l1: { capacityBytes: 1 << 20 }, storeQueueLimitByte: 10 } as never), ConfigError);
    expect(err.message).to.match(/storage\.storeQueueLimitByte/).and.match(/did you mean storeQueueLimit/);
  });

  it('L1: the CLI name l1.watermark is not an L1 option', () => {
    const err = thrownBy(() => new L1Manager({ capacityBytes: 1 << 20, watermark: 0.5 } as never), ConfigError);
    expect(err.message).to.match(/l1\.watermark/).and.match(/triggerWatermark/);
  });
});

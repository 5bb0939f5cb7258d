// /proc/net/dev as the stats `networks` figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev } from '../../src/sys/netdev.ts';

test('every interface but loopback, receive and transmit columns in docker\'s names', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0
  eth0: 3145728    2100    1    2    0     0          0         0  5338000    3600    3    4    0     0       0          0
  eth1:10      1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`;
  assert.deepEqual(parseNetDev(text), {
    eth0: { rx_bytes: 3145728, rx_packets: 2100, rx_errors: 1, rx_dropped: 2, tx_bytes: 5338000, tx_packets: 3600, tx_errors: 3, tx_dropped: 4 },
    eth1: { rx_bytes: 10, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 20, tx_packets: 2, tx_errors: 0, tx_dropped: 0 },
  });
  assert.deepEqual(parseNetDev(''), {});
});

/**
 * The child process of the cycle benchmark (bench/cycle-cost.ts): loads the built AWS scale function as Lambda does
 * (`require`, once) and runs one manual invocation, i.e. exactly one scaling cycle, per `cycle` line on stdin. Reports
 * go to fd 3 as JSON lines, because stdout carries the function's own log lines.
 *
 * Plain CommonJS rather than TypeScript: this process is measured for its peak RSS, and Node's type stripping alone
 * adds about 13 MB that Lambda never pays.
 *
 * Usage: node bench/cycle-probe.cjs <bundle> <baseline-url>
 */
const { writeSync } = require('node:fs');
const { get } = require('node:http');
const { performance } = require('node:perf_hooks');
const { createInterface } = require('node:readline');

const [bundle, baselineUrl] = process.argv.slice(2);
/** Round trips timed for the baseline; the median is used, so one slow connect does not skew it. */
const BASELINE_SAMPLES = 5;
/** Milliseconds Lambda would report as remaining: far more than one cycle needs. */
const REMAINING_MS = 60_000;

function report(message) {
  writeSync(3, `${JSON.stringify(message)}\n`);
}

function contextFor(invocation) {
  const deadline = Date.now() + REMAINING_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fleetplane-bench-scale',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fleetplane-bench-scale',
    memoryLimitInMB: '128',
    awsRequestId: `bench-${invocation}`,
    logGroupName: '/aws/lambda/fleetplane-bench-scale',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * Wall time, the CPU time this process spent meanwhile (what a small Lambda, given a fraction of a core, pays) and
 * the process's peak RSS so far.
 */
async function invoke(handler, invocation) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const measured = () => {
    const used = process.cpuUsage(cpu);
    const maxRssKiB = process.resourceUsage().maxRSS;
    return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, maxRssKiB };
  };
  try {
    const result = await handler({ once: true }, contextFor(invocation));
    return { type: 'cycle', ...measured(), result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { type: 'cycle', ...measured(), error: message };
  }
}

/** One plain HTTP round trip over the same loopback path and keep-alive agent kind the SDK uses. */
function roundTrip(url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    get(url, (response) => {
      response.resume();
      response.on('end', () => resolve(performance.now() - started));
      response.on('error', reject);
    }).on('error', reject);
  });
}

async function main() {
  const loading = performance.now();
  const { handler } = require(bundle);
  report({ type: 'ready', importMs: performance.now() - loading });

  let invocation = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'cycle') {
      report(await invoke(handler, invocation++));
    } else if (line === 'finish') {
      // Read before the baseline requests, so the peak is the function's alone.
      const maxRssKiB = process.resourceUsage().maxRSS;
      const roundTripsMs = [];
      for (let sample = 0; sample < BASELINE_SAMPLES; sample++) {
        roundTripsMs.push(await roundTrip(baselineUrl));
      }
      report({ type: 'finished', maxRssKiB, roundTripsMs });
      break;
    }
  }
  // The SDK's keep-alive sockets must not keep a finished probe around.
  process.exit(0);
}

main().catch((error) => {
  report({ type: 'crashed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});

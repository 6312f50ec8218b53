// The client commands, run as child processes of the CLI built from the sources against one
// control plane (an api and a worker replica on a fresh PostgreSQL database, a `stratus sim` as
// their cloud) started once for the file. Independent commands run concurrently: each costs a
// process start.

import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { until } from '../helpers/poll.js';
import { spawnStratus } from '../helpers/stratus-process.js';
import {
  type BuiltCli,
  buildCli,
  type ControlPlane,
  freshHome,
  runCli,
  startControlPlane,
} from './harness.js';

let cli: BuiltCli;
let cp: ControlPlane;
let admin: string;
let viewer: string;
const home = freshHome();
/** The environment of a command that finds its server in the environment. */
let env: Record<string, string>;
const stratus = (args: string, extra: Record<string, string> = {}, stdin?: string) =>
  runCli(cli, args.split(' ').filter(Boolean), { ...env, ...extra }, stdin);

beforeAll(async () => {
  [cli, cp] = await Promise.all([buildCli(), startControlPlane()]);
  [admin, viewer] = await Promise.all([cp.key('admin'), cp.key('viewer')]);
  env = { HOME: home.home, XDG_CONFIG_HOME: home.config, STRATUS_URL: cp.url, STRATUS_API_KEY: admin };
}, 90_000);
afterAll(async () => {
  await cp?.stop();
  cli?.dispose();
  home.dispose();
});

// The offline checks and the server's run side by side: their commands share nothing.
describe.concurrent('the client commands', () => {
  it('writes help from the registry, completes words in bash, and exits 2 on bad command lines', {
    timeout: 90_000,
  }, async () => {
    const none = { HOME: home.home, XDG_CONFIG_HOME: join(home.home, 'none') };
    const [help, kindHelp, bash, zsh, fish, badVerb, badOutput, badFlag, noServer, noKey] = await Promise.all(
      [
        // The server's part of the help reads the settings table, whose modules need the build's
        // assets: run it from the sources.
        new Promise<{ code: number | null; stdout: string }>((resolve) => {
          const p = spawnStratus(['--help']);
          void p.exited.then(({ code }) => resolve({ code, stdout: p.logs.map((l) => l.raw).join('\n') }));
        }),
        runCli(cli, ['instances', '--help'], none),
        runCli(cli, ['completion', 'bash'], none),
        runCli(cli, ['completion', 'zsh'], none),
        runCli(cli, ['completion', 'fish'], none),
        runCli(cli, ['instances', 'frob', 'x'], none),
        runCli(cli, ['networks', 'list', '-o', 'xml'], none),
        runCli(cli, ['networks', 'list', '--bogus'], none),
        runCli(cli, ['networks', 'list'], none),
        runCli(cli, ['networks', 'list'], { ...none, STRATUS_URL: 'http://127.0.0.1:1' }),
      ],
    );
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('stratus <kind> list|get|create|update|delete|<action>');
    expect(help.stdout).toContain('dns-records');
    expect(help.stdout).toContain('6 timed out waiting');
    expect(kindHelp.code).toBe(0);
    expect(kindHelp.stdout).toContain('stratus instances resize NAME|ID --set size=…');
    expect(kindHelp.stdout).toMatch(/network +id of one of your networks/);
    expect(kindHelp.stdout).toContain('references: network → networks');

    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o default -F _stratus stratus');
    expect(zsh.stdout).toContain('compdef _stratus stratus');
    expect(fish).toMatchObject({ code: 2, stderr: expect.stringContaining('expected bash or zsh') });
    // The bash script, sourced in a real bash, completes from the registry.
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `source <(stratus completion bash)\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_stratus\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
      const run = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        env: { PATH: `${cli.binDir}:${process.env.PATH}`, ...none },
      });
      return run.stdout.trim().split('\n');
    };
    expect(complete('stratus inst')).toEqual(['instances']);
    expect(complete('stratus instances ')).toEqual([
      'list',
      'get',
      'create',
      'update',
      'delete',
      'stop',
      'start',
      'resize',
      'reboot',
    ]);
    expect(complete('stratus volumes a')).toEqual(['attach']);
    expect(complete('stratus networks list -o ')).toEqual(['table', 'json', 'yaml', 'name']);
    expect(complete('stratus instances create web --set s')).toEqual(['size=', 'subnet=']);
    expect(complete('stratus system dead-letters ')).toEqual(['redrive']);

    expect(badVerb).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'unknown verb "frob": one of list, get, create, update, delete, stop, start, resize, reboot',
      ),
    });
    expect(badOutput).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--output: "xml" is not one of table, json, yaml, name'),
    });
    expect(badFlag).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain(
      'missing the server URL and an API key: pass --url or STRATUS_URL, --api-key or STRATUS_API_KEY',
    );
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('missing an API key: pass --api-key or STRATUS_API_KEY');
  });

  it('runs every verb family with every output, the exit codes, profiles and --wait', {
    timeout: 180_000,
  }, async () => {
    const bad = 'stratus_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const loginHome = freshHome();
    const profileEnv = { HOME: loginHome.home, XDG_CONFIG_HOME: loginHome.config };
    const key = `cli-test-${randomUUID()}`;
    writeFileSync(
      join(home.home, 'web.yaml'),
      'name: web-1\nlabels:\n  app: web\nspec:\n  image: ubuntu-24.04\n  size: small\n  network: cli-net\n',
    );

    // A network (names resolve to ids in reference fields from here on), and logins.
    const [net, badLogin, login] = await Promise.all([
      stratus('networks create cli-net --set cidr=10.30.0.0/24 --label app=web --wait'),
      runCli(cli, ['login', '--url', cp.url, '--api-key', bad], profileEnv),
      runCli(cli, ['login', '--url', cp.url, '--api-key', admin, '--profile', 'ops'], profileEnv),
    ]);
    expect(net, net.stderr).toMatchObject({ code: 0, stderr: '' });
    // Not on a terminal: plain lines, then the table (real columns, the spec's among them).
    const netLines = net.stdout.trim().split('\n');
    expect(netLines[0]).toMatch(/^create networks\/cli-net: (pending|running|succeeded)/);
    expect(netLines).toContain('create networks/cli-net: succeeded');
    expect(netLines.at(-2)).toMatch(/^NAME +ID +PHASE +AGE +CIDR$/);
    expect(netLines.at(-1)).toMatch(/^cli-net +net_[0-9a-z]{26} +Ready +\d+s +10\.30\.0\.0\/24$/);
    expect(net.stdout).not.toContain('\r');
    expect(badLogin).toMatchObject({ code: 5, stderr: expect.stringContaining('401') });
    expect(login.code, login.stderr).toBe(0);
    const profileFile = join(loginHome.config, 'stratus', 'profiles.json');
    expect(statSync(profileFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(loginHome.config, 'stratus')).mode & 0o777).toBe(0o700);

    const [inst, vol, dup, cidr, asViewer, badKey, nope, idem1, idem2, timedOut, fromProfile, noProfile] =
      await Promise.all([
        stratus(`instances create --file ${join(home.home, 'web.yaml')} --wait -o json`),
        stratus('volumes create data --set sizeGiB=1 --set type=ssd'),
        stratus('networks create cli-net --set cidr=10.31.0.0/24'),
        stratus('networks create bad --set cidr=10.32.0.1/24'),
        stratus('networks create viewer-net --set cidr=10.33.0.0/24', { STRATUS_API_KEY: viewer }),
        stratus('networks list', { STRATUS_API_KEY: bad }),
        stratus('instances get nope'),
        stratus(`dns-zones create idem --set domain=idem.test -o json --idempotency-key ${key}`),
        stratus(`dns-zones create idem --set domain=idem.test -o json --idempotency-key ${key}`),
        stratus('dns-zones create late --set domain=late.test --wait --timeout 1ms'),
        runCli(cli, ['networks', 'list', '-o', 'name'], profileEnv),
        runCli(cli, ['networks', 'list', '--profile', 'nobody'], profileEnv),
      ]);
    expect(inst.code, inst.stderr).toBe(0);
    const instOp = JSON.parse(inst.stdout) as {
      id: string;
      state: string;
      resource: { id: string; spec: { network: string } };
    };
    expect(instOp.state).toBe('succeeded');
    expect(instOp.resource.spec.network).toBe(netLines.at(-1)!.split(/ +/)[1]);
    expect(vol.stdout).toMatch(/^volumes\/data created: operation op_[0-9a-z]{26} pending\n$/);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain('POST /v1/networks: 409');
    expect(cidr.code).toBe(1);
    expect(cidr.stderr).toContain('422 VALIDATION_FAILED: /spec/cidr: 10.32.0.1/24 has host bits set');
    expect(asViewer).toMatchObject({ code: 5, stderr: expect.stringContaining('403') });
    expect(badKey.code).toBe(5);
    expect(nope).toMatchObject({ code: 3, stderr: 'stratus: no instances named "nope"\n' });
    // The same key: one zone, the second answer a replay of the first.
    expect(idem1.code, idem1.stderr).toBe(0);
    expect(JSON.parse(idem2.stdout).resource.id).toBe(JSON.parse(idem1.stdout).resource.id);
    expect(timedOut.code).toBe(6);
    expect(timedOut.stderr).toMatch(/timed out after 0s waiting for operation op_\w+/);
    // The profile saved by login serves a command with nothing in the environment.
    expect(fromProfile).toMatchObject({ code: 0, stdout: 'networks/cli-net\n' });
    expect(noProfile).toMatchObject({ code: 2, stderr: expect.stringContaining('no profile "nobody"') });

    const volId = /operation (op_\w+)/.exec(vol.stdout)![1]!;
    const [
      table,
      json,
      yaml,
      names,
      selected,
      byId,
      resize,
      labels,
      stop,
      reuse,
      referred,
      op,
      envWins,
      flagWins,
    ] = await Promise.all([
      stratus('instances list'),
      stratus('networks list -o json'),
      stratus('instances list -o yaml'),
      stratus('networks list -o name'),
      stratus('instances list -l app=web -o name'),
      stratus(`instances get ${instOp.resource.id} -o yaml`),
      stratus('volumes update data --set sizeGiB=2 --wait'),
      stratus('networks update cli-net --label tier=front'),
      stratus('instances stop web-1 --wait'),
      stratus(`dns-zones create other --set domain=other.test --idempotency-key ${key}`),
      stratus('networks delete cli-net'),
      stratus(`operations get ${volId} -o json`),
      runCli(cli, ['networks', 'list', '-o', 'name', '--profile', 'ops'], {
        ...profileEnv,
        STRATUS_URL: 'http://127.0.0.1:1',
      }),
      runCli(cli, ['networks', 'list', '-o', 'name', '--url', cp.url], {
        ...profileEnv,
        STRATUS_URL: 'http://127.0.0.1:1',
      }),
    ]);
    expect(table.stdout).toMatch(
      /^NAME +ID +PHASE +AGE +IMAGE +SIZE +NETWORK +SUBNET\nweb-1 +inst_\w+ +Ready +\d+s +ubuntu-24\.04 +small +net_\w+ +-\n$/,
    );
    expect((JSON.parse(json.stdout) as { items: { name: string }[] }).items.map((i) => i.name)).toEqual([
      'cli-net',
    ]);
    expect((parseYaml(yaml.stdout) as { items: { name: string }[] }).items.map((i) => i.name)).toEqual([
      'web-1',
    ]);
    expect(names.stdout).toBe('networks/cli-net\n');
    expect(selected.stdout).toBe('instances/web-1\n');
    expect(parseYaml(byId.stdout)).toMatchObject({
      id: instOp.resource.id,
      name: 'web-1',
      labels: { app: 'web' },
    });
    expect(resize.code, resize.stderr).toBe(0);
    expect(resize.stdout).toContain('update volumes/data: succeeded');
    expect(resize.stdout).toMatch(/\ndata +vol_\w+ +Ready +\d+s +2 +ssd/);
    expect(labels.stdout).toBe('networks/cli-net labels updated (no change of spec)\n');
    expect(stop.stdout).toContain('stop instances/web-1: succeeded');
    expect(reuse.code).toBe(1);
    expect(reuse.stderr).toContain('422 IDEMPOTENCY_KEY_REUSED');
    expect(referred.code).toBe(4);
    expect(referred.stderr).toContain('409 HAS_REFERRERS');
    expect(JSON.parse(op.stdout)).toMatchObject({ id: volId, kind: 'volumes', verb: 'create' });
    // Precedence: the environment's URL wins over the profile's, a flag over the environment.
    expect(envWins).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('cannot reach http://127.0.0.1:1'),
    });
    expect(flagWins).toMatchObject({ code: 0, stdout: 'networks/cli-net\n' });

    // The system views, each a table of its own columns and as JSON; redrive of no such job.
    const views = ['replicas', 'leaders', 'queues', 'breakers', 'controllers', 'dead-letters'];
    const [stopAgain, events, opsGet, opsWait, redrive, ...system] = await Promise.all([
      stratus('instances stop web-1'),
      // Alone with no write: a page of events reads up to the horizon, which writers in flight hold back.
      stratus('events --kind networks -o json --limit 500'),
      stratus(`operations get ${volId}`),
      stratus(`operations wait ${volId} -o name`),
      stratus('system dead-letters redrive reconcile/networks/net_00000000000000000000000000/1'),
      ...views.map((v) => stratus(`system ${v}`)),
      stratus('system replicas -o json'),
    ]);
    expect(opsGet.stdout).toMatch(
      /^ID +VERB +RESOURCE +GENERATION +STATE +AGE +STATUS +ERROR\nop_\w+ +create +volumes\/data +1 +succeeded/,
    );
    expect(opsWait).toMatchObject({
      code: 0,
      stdout: `operations/${volId}\n`,
    });
    expect(stopAgain.stdout).toBe('instances/web-1 unchanged: already in effect\n');
    expect(redrive.code).toBe(3);
    const netEvents = (JSON.parse(events.stdout) as { items: { type: string; name: string }[] }).items;
    expect(netEvents).toContainEqual(expect.objectContaining({ type: 'Created', name: 'cli-net' }));
    expect(netEvents).toContainEqual(expect.objectContaining({ type: 'StatusChanged', phase: 'Ready' }));
    const headers = [
      'NODE +ROLE +STATE',
      'KEY +EPOCH +HOLDER',
      'NAME +BACKEND +DEPTH',
      'NODE +PORT +STATE',
      'NAME +PASSES +ERRORS',
      'JOB +ATTEMPTS',
    ];
    system.slice(0, 6).forEach((run, i) => {
      expect(run.code, `${views[i]}: ${run.stderr}`).toBe(0);
      expect(run.stdout, views[i]).toMatch(new RegExp(`^${headers[i]}`));
    });
    expect(system[0]!.stdout).toMatch(/\ncli-api +api +live/);
    expect(system[0]!.stdout).toMatch(/\ncli-worker +worker +live/);
    expect(system[1]!.stdout).toMatch(/\n\S+ +\d+ +cli-worker +live/);
    expect(
      (JSON.parse(system[6]!.stdout) as { items: { nodeId: string }[] }).items.map((r) => r.nodeId).sort(),
    ).toEqual(['cli-api', 'cli-worker']);

    // The watch: everything of networks since the first event, then a create as it happens.
    const follow = spawn(
      join(cli.binDir, 'stratus'),
      ['events', '--follow', '--kind', 'networks', '--since', '0'],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    );
    let followed = '';
    follow.stdout.setEncoding('utf8').on('data', (d: string) => {
      followed += d;
    });
    const followExit = new Promise((r) => follow.once('exit', r));
    await until(() => followed.includes('LabelsChanged networks/cli-net'), 30_000, 'the watch to replay');
    const second = await stratus('networks create follow-net --set cidr=10.40.0.0/24');
    expect(second.code, second.stderr).toBe(0);
    await until(() => / Created networks\/follow-net Provisioning /.test(followed), 30_000, 'the live event');
    follow.kill('SIGINT');
    expect(await followExit).toBe(0);

    // Delete it all, dependents first.
    const [gone, zone] = await Promise.all([
      stratus('networks delete cli-net --cascade --wait'),
      stratus('dns-zones delete idem --wait -o json'),
    ]);
    expect(gone.stdout.trim().split('\n').at(-1)).toBe('networks/cli-net deleted');
    expect(JSON.parse(zone.stdout)).toMatchObject({ verb: 'delete', state: 'succeeded', resource: null });
    loginHome.dispose();
  });

  it('redrives a dead letter once its cause is gone: exit 0, the job leaves the dead letters, the zone ends Ready', {
    timeout: 60_000,
  }, async () => {
    // The backend refuses the zone once. A refusal of the input fails the pass for good, so the
    // worker dead-letters the job after its first attempt; the rule is then spent, as a cause
    // an operator fixed is, and the redriven job runs against a backend that takes the zone.
    await cp.sim.addFaults({
      backend: 'dns',
      operation: 'createZone',
      resource: 'zone/name:dead-letter.test',
      effect: { kind: 'error', code: 'BACKEND_INVALID_INPUT' },
      times: 1,
    });
    const failed = await stratus('dns-zones create dead-letter --set domain=dead-letter.test --wait');
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stderr).toContain('InvalidInput');
    const zoneId = (JSON.parse((await stratus('dns-zones get dead-letter -o json')).stdout) as { id: string })
      .id;
    const deadLetters = async () => {
      const run = await stratus('system dead-letters --kind reconcile -o json');
      expect(run.code, run.stderr).toBe(0);
      const items = (
        JSON.parse(run.stdout) as { items: Array<{ jobKey: string; resource: { id: string } | null }> }
      ).items;
      return items.filter((d) => d.resource?.id === zoneId).map((d) => d.jobKey);
    };
    // The operation fails before the worker records the dead letter: wait for the ledger's word
    // (asked of the API, which costs no process start), then read it as an operator does.
    await until(
      async () => {
        const res = await fetch(`${cp.url}/v1/system/dead-letters?kind=reconcile`, {
          headers: { authorization: `Bearer ${admin}` },
        });
        const body = (await res.json()) as { items: Array<{ resource: { id: string } | null }> };
        return body.items.some((d) => d.resource?.id === zoneId);
      },
      20_000,
      'the dead letter',
      100,
    );
    const letters = await deadLetters();
    expect(letters).toHaveLength(1);
    const jobKey = letters[0]!;

    const redrive = await stratus(`system dead-letters redrive ${jobKey} --wait`);
    expect(redrive, redrive.stderr).toMatchObject({ code: 0, stderr: '' });
    // Not on a terminal: the reopened operation's plain lines, then what was redriven.
    const lines = redrive.stdout.trim().split('\n');
    expect(lines).toContain('create dns-zones/dead-letter: succeeded');
    expect(lines.at(-1)!.startsWith(`${jobKey} redriven: operation op_`), redrive.stdout).toBe(true);
    expect(lines.at(-1)).toMatch(/ succeeded$/);
    const [after, zone] = await Promise.all([deadLetters(), stratus('dns-zones get dead-letter -o json')]);
    expect(after).toEqual([]);
    expect(JSON.parse(zone.stdout)).toMatchObject({ status: { phase: 'Ready' } });
  });
});

describe('--wait on a terminal', () => {
  it('redraws one live line while the operation waits, plain lines when not on a terminal', {
    timeout: 120_000,
  }, async () => {
    // A tmux server of our own (its own socket), so nothing of anyone else's is touched.
    const socket = `stratus-cli-${randomUUID().slice(0, 8)}`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-u', '-L', socket, ...args], { encoding: 'utf8' });
    const pane = () => tmux('capture-pane', '-p', '-t', socket).stdout;
    const shellEnv = Object.entries({ ...env, PATH: `${cli.binDir}:${process.env.PATH}`, LANG: 'C.UTF-8' })
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    // With the worker stopped the operations stay pending: the display has something to show.
    process.kill(cp.worker.child.pid!, 'SIGSTOP');
    let plainOut = '';
    let plainExit: Promise<number | null> | undefined;
    try {
      const started = tmux(
        'new-session',
        '-d',
        '-s',
        socket,
        '-x',
        '150',
        '-y',
        '10',
        `env ${shellEnv} stratus dns-zones create tty --set domain=tty.test --wait; echo EXIT=$?; sleep 300`,
      );
      expect(started.status, started.stderr).toBe(0);
      const plain = spawn(
        join(cli.binDir, 'stratus'),
        ['dns-zones', 'create', 'plain', '--set', 'domain=plain.test', '--wait'],
        {
          env: { PATH: process.env.PATH ?? '', ...env },
        },
      );
      plain.stdout.setEncoding('utf8').on('data', (d: string) => {
        plainOut += d;
      });
      plainExit = new Promise((r) => plain.once('exit', r));
      await until(
        () => /create dns-zones\/tty: pending, Provisioning \[\d+\.\ds\]/.test(pane()),
        40_000,
        'the live line',
      );
      const first = /\[(\d+\.\d)s\]/.exec(pane())![1];
      // The clock on the line moves by itself, between two answers of the server.
      await until(() => /\[(\d+\.\d)s\]/.exec(pane())?.[1] !== first, 10_000, 'the line to be redrawn');
      // One line, redrawn in place: the screen holds it once.
      expect(pane().match(/create dns-zones\/tty/g)).toHaveLength(1);
      await until(() => plainOut.includes('\n'), 30_000, 'the plain first line');
    } finally {
      process.kill(cp.worker.child.pid!, 'SIGCONT');
    }
    try {
      await until(() => pane().includes('EXIT=0'), 60_000, 'the command to end');
      expect(pane()).toMatch(/✓ create dns-zones\/tty: succeeded in \d+\.\ds\n/);
      expect(pane()).toMatch(/\nNAME +ID +PHASE +AGE +DOMAIN\ntty +zone_\w+ +Ready/);
    } finally {
      tmux('kill-session', '-t', socket);
    }
    expect(await plainExit).toBe(0);
    const run = { stdout: plainOut };
    const lines = run.stdout.trim().split('\n');
    // Not a terminal: one line per change, nothing that moves by itself, no control characters.
    expect(lines[0]).toBe('create dns-zones/plain: pending, Provisioning');
    expect(lines).toContain('create dns-zones/plain: succeeded');
    expect(run.stdout).not.toContain(String.fromCharCode(27));
    expect(run.stdout).not.toMatch(/\r|\[\d/);
  });
});

describe('zsh completion in a real zsh', () => {
  it('completes commands, verbs and output formats from the registry at a Tab', {
    timeout: 60_000,
  }, async () => {
    // A tmux server of our own (its own socket) running zsh with no rc files but ours.
    const socket = `stratus-zsh-${randomUUID().slice(0, 8)}`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-u', '-L', socket, ...args], { encoding: 'utf8' });
    const pane = () => tmux('capture-pane', '-p', '-t', socket).stdout;
    const zdot = join(home.home, 'zdot');
    spawnSync('mkdir', ['-p', zdot]);
    writeFileSync(
      join(zdot, '.zshrc'),
      [
        `export PATH='${cli.binDir}':"$PATH" HOME='${home.home}' XDG_CONFIG_HOME='${join(home.home, 'none')}'`,
        'PS1="zsh> "',
        'autoload -Uz compinit && compinit -u -D',
        'source <(stratus completion zsh)',
        'print READY',
        '',
      ].join('\n'),
    );
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      socket,
      '-x',
      '150',
      '-y',
      '20',
      `env ZDOTDIR='${zdot}' zsh -i`,
    );
    expect(started.status, started.stderr).toBe(0);
    try {
      await until(() => pane().includes('READY'), 20_000, 'zsh to start');
      /** Types `line`, a Tab, and waits for the line to read `want`; then clears it. */
      const tab = async (line: string, want: RegExp) => {
        tmux('send-keys', '-t', socket, '-l', line);
        tmux('send-keys', '-t', socket, 'Tab');
        await until(() => want.test(pane()), 15_000, `${line}<Tab> to complete to ${want}`);
        tmux('send-keys', '-t', socket, 'C-u');
        tmux('send-keys', '-t', socket, 'clear', 'Enter');
        await until(() => !want.test(pane()), 10_000, 'the screen cleared');
      };
      await tab('stratus pipeline-r', /zsh> stratus pipeline-runs *$/m);
      await tab('stratus clusters upg', /zsh> stratus clusters upgrade *$/m);
      await tab('stratus networks list -o ya', /zsh> stratus networks list -o yaml *$/m);
      await tab('stratus system dead-letters re', /zsh> stratus system dead-letters redrive *$/m);
    } finally {
      tmux('kill-server');
    }
  });
});

// Interop checks of our drand-mock / `miner tlock encrypt` / `validator-sim tlock decrypt` against
// drand's own JS libraries (drand-client, tlock-js). Started by interop/drand_js.sh, which starts
// drand-mock with --manual-clock and passes, in the environment:
//   BEACON_URL, CHAIN_HASH, PUBLIC_KEY (the mock's stdout lines 1-3), MINER, VSIM (binary paths).
// Prints one PASS/FAIL line per check; exit status 0 only if every check passed.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as drand from "drand-client";
import * as tlock from "tlock-js";

const { BEACON_URL, CHAIN_HASH, PUBLIC_KEY, MINER, VSIM } = process.env;
for (const [k, v] of Object.entries({ BEACON_URL, CHAIN_HASH, PUBLIC_KEY, MINER, VSIM })) {
    if (!v) { console.error(`missing env ${k}`); process.exit(2); }
}

let failures = 0;
function check(name, ok, detail = "") {
    console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
    if (!ok) failures++;
}
async function attempt(name, fn) {
    try { await fn(); } catch (e) { check(name, false, `threw: ${e?.message ?? e}`); }
}

// ---- the mock's manual clock ----
async function advance(query) {
    const r = await fetch(`${BEACON_URL}/admin/advance?${query}`, { method: "POST" });
    if (!r.ok) throw Error(`advance ${query}: HTTP ${r.status}`);
    return r.json(); // {now: unix secs, round}
}
const mockNow = () => advance("secs=0");

// tlock-js refuses to decrypt while `roundTime(info, R) > Date.now()` (a wall-clock gate before
// it asks the beacon). The mock runs on a manual clock that we move ahead of the wall clock, so
// tlock-js's calls run with Date.now() pinned to the mock's time (or, to get past the local gate
// and see what the beacon itself answers, far in the future).
async function withDateNow(ms, fn) {
    const real = Date.now;
    Date.now = () => ms;
    try { return await fn(); } finally { Date.now = real; }
}
// tlock-js logs every beacon it fetches with console.log; keep our output to PASS/FAIL lines.
async function quiet(fn) {
    const log = console.log;
    console.log = () => {};
    try { return await fn(); } finally { console.log = log; }
}

// ---- running our binaries ----
function runBin(bin, args, input, { timeoutMs = 60_000 } = {}) {
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out = [], err = [];
    child.stdout.on("data", d => out.push(d));
    child.stderr.on("data", d => err.push(d));
    let exited = false;
    const done = new Promise((resolve, reject) => {
        const t = setTimeout(() => { child.kill("SIGKILL"); reject(Error(`${bin} ${args.join(" ")}: timed out`)); }, timeoutMs);
        child.on("error", reject);
        child.on("close", code => {
            exited = true;
            clearTimeout(t);
            resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
        });
    });
    child.stdin.end(input);
    return { done, hasExited: () => exited, kill: () => child.kill("SIGKILL") };
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

const verifyOpts = {
    disableBeaconVerification: false,
    noCache: true,
    chainVerificationParams: { chainHash: CHAIN_HASH, publicKey: PUBLIC_KEY },
};
// tlock-js brings its own pinned drand-client; use its classes for the tlock checks.
const tlockClient = () => new tlock.HttpChainClient(new tlock.HttpCachingChain(BEACON_URL, verifyOpts), verifyOpts);

// (read from node_modules: the packages' "exports" do not expose package.json)
const pkgVersion = dir => JSON.parse(readFileSync(new URL(`./node_modules/${dir}/package.json`, import.meta.url))).version;
console.log(`== node ${process.version}, drand-client ${pkgVersion("drand-client")}, tlock-js ${pkgVersion("tlock-js")}` +
    ` (its own drand-client ${pkgVersion("tlock-js/node_modules/drand-client")})`);

// ---- 1. drand-client fetches /info and verifies beacons ----
await attempt("1 drand-client verifies the mock's beacons", async () => {
    const chain = new drand.HttpCachingChain(BEACON_URL, verifyOpts);
    const client = new drand.HttpChainClient(chain, verifyOpts);
    const info = await chain.info(); // throws if hash / public key differ from the pinned ones
    check("1a /info accepted with chain hash + public key pinned",
        info.hash === CHAIN_HASH && info.public_key === PUBLIC_KEY && info.schemeID === "bls-unchained-g1-rfc9380",
        `scheme ${info.schemeID}, period ${info.period}, genesis ${info.genesis_time}`);
    const { round } = await advance("rounds=5"); // so that "current" and round 1 differ
    const latest = await client.latest();
    const beacon = await drand.fetchBeacon(client, round); // verifies randomness + signature
    check("1b fetchBeacon(current round) verified", beacon.round === round && latest.round === round, `round ${round}`);
    const first = await drand.fetchBeacon(client, 1);
    check("1c fetchBeacon(1) verified", first.round === 1);
    // negative controls through the same public path (drand-client does not export verifyBeacon):
    // a ChainClient that serves altered beacons must make fetchBeacon throw.
    const serving = (chainObj, alter) => ({ options: verifyOpts, chain: () => chainObj,
        latest: async () => alter(await client.latest()), get: async r => alter(await client.get(r)) });
    const refused = async (c, r) => {
        try { await quietErr(() => drand.fetchBeacon(c, r)); return "accepted"; } catch (e) { return e.message; }
    };
    const swapped = await refused(serving(chain, b => ({ ...b, signature: first.signature, randomness: first.randomness })), round);
    check("1d a beacon carrying round 1's signature (and randomness) for round R is refused", /not valid/.test(swapped), swapped);
    const otherKeyChain = { baseUrl: BEACON_URL, info: async () => ({ ...info, public_key: tlock.defaultChainInfo.public_key }) };
    const wrongKey = await refused(serving(otherKeyChain, b => b), round);
    check("1e the mock's beacon under another chain's public key (drand mainnet quicknet's) is refused",
        tlock.defaultChainInfo.public_key !== PUBLIC_KEY && /not valid/.test(wrongKey), wrongKey);
    let pinnedErr = null;
    try {
        await new drand.HttpCachingChain(BEACON_URL, { ...verifyOpts, chainVerificationParams: { chainHash: "00".repeat(32), publicKey: PUBLIC_KEY } }).info();
    } catch (e) { pinnedErr = e; }
    check("1f a wrongly pinned chain hash is refused", pinnedErr !== null);
});
async function quietErr(fn) {
    const e = console.error;
    console.error = () => {};
    try { return await fn(); } finally { console.error = e; }
}

// ---- 2. our miner's age ciphertext, decrypted by tlock-js ----
await attempt("2 tlock-js decrypts `miner tlock encrypt --format age`", async () => {
    const plaintext = Buffer.from(`miid drand-js interop ${randomBytes(8).toString("hex")}\n`);
    const start = await mockNow();
    const R = start.round + 3; // >= current + 2: the mock answers 404 at once, no long-poll
    const enc = await runBin(MINER, ["tlock", "encrypt", "--round", String(R), "--beacon", BEACON_URL, "--format", "age"], plaintext).done;
    if (enc.code !== 0) throw Error(`miner exited ${enc.code}: ${enc.stderr}`);
    const armored = enc.stdout.toString();
    const body = Buffer.from(armored.split("\n").filter(l => l && !l.startsWith("-----")).join(""), "base64").toString("latin1");
    check("2a miner writes an armored age file with a tlock stanza for R and the mock's chain",
        armored.startsWith("-----BEGIN AGE ENCRYPTED FILE-----") && body.startsWith("age-encryption.org/v1\n")
        && body.includes(`\n-> tlock ${R} ${CHAIN_HASH}\n`), `round ${R}, ${armored.length} bytes`);
    const client = tlockClient();

    let early = null;
    try { await quiet(() => withDateNow(start.now * 1000, () => tlock.timelockDecrypt(armored, client))); } catch (e) { early = e; }
    check("2b before the advance tlock-js refuses (too early, at the mock's time)",
        early !== null && /too early/i.test(early.message), early?.message ?? "it decrypted");
    let early2 = null;
    try {
        await quiet(() => quietErr(() => withDateNow(Date.now() + 10 * 365 * 86400e3, () => tlock.timelockDecrypt(armored, client))));
    } catch (e) { early2 = e; }
    check("2c ... and past tlock-js's clock gate the mock does not have the round",
        early2 !== null && /\/public\/\d+.*got 404/.test(early2.message), early2?.message ?? "it decrypted");

    const adv = await advance("rounds=4");
    check("2d mock advanced past R", adv.round > R, `now round ${adv.round}`);
    const out = await quiet(() => withDateNow(adv.now * 1000, () => tlock.timelockDecrypt(armored, client)));
    check("2e tlock-js timelockDecrypt gives the plaintext", Buffer.from(out).equals(plaintext));
});

// ---- 3. tlock-js's ciphertext, decrypted by our validator-sim ----
await attempt("3 validator-sim decrypts tlock-js timelockEncrypt", async () => {
    const plaintext = Buffer.from(`tlock-js -> validator-sim ${randomBytes(8).toString("hex")}\n`);
    const start = await mockNow();
    const R = start.round + 3;
    const armored = await tlock.timelockEncrypt(R, tlock.Buffer.from(plaintext), tlockClient());
    check("3a tlock-js timelockEncrypt to the mock", armored.startsWith("-----BEGIN AGE ENCRYPTED FILE-----"), `round ${R}`);
    const dec = runBin(VSIM, ["tlock", "decrypt", "--beacon", BEACON_URL, "--timeout", "60"], Buffer.from(armored));
    await sleep(1500);
    check("3b validator-sim waits while round R is not out", !dec.hasExited());
    await advance("rounds=4");
    const res = await dec.done;
    check("3c validator-sim exits 0 after the advance", res.code === 0, res.code === 0 ? "" : res.stderr.trim().slice(-400));
    check("3d same plaintext", res.stdout.equals(plaintext), res.stdout.equals(plaintext) ? "" : JSON.stringify(res.stdout.toString()));
    // a second ciphertext whose round is already out when validator-sim starts
    const s2 = await mockNow();
    const R2 = s2.round + 2;
    const armored2 = await tlock.timelockEncrypt(R2, tlock.Buffer.from(plaintext), tlockClient());
    await advance("rounds=3");
    const res2 = await runBin(VSIM, ["tlock", "decrypt", "--beacon", BEACON_URL, "--timeout", "10"], Buffer.from(armored2)).done;
    check("3e second tlock-js ciphertext (round already out) decrypts", res2.code === 0 && res2.stdout.equals(plaintext),
        res2.code === 0 ? "" : res2.stderr.trim().slice(-400));
});

console.log(failures === 0 ? "== drand JS: all checks passed" : `== drand JS: ${failures} check(s) FAILED`);
process.exit(failures === 0 ? 0 : 1);

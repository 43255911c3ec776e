// What the Puppeteer and Playwright bots share: their command line, the
// chromium flags, and the bot's loop.  Each bot supplies launch(args), which
// starts a browser and returns browserSession(browser, page, countText).
'use strict';

const fs = require('fs');
const path = require('path');
const url = require('url');

const CHROMIUM = '/usr/bin/chromium';
const PAGE = url.pathToFileURL(path.join(__dirname, 'pages', 'index.html')).href;

function chromiumFlags() {
    const flags = ['--disable-gpu', '--disable-background-networking', '--disable-component-update',
                   '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
    if (process.geteuid() === 0)
        flags.push('--no-sandbox'); // Chromium refuses to run as root otherwise
    return flags;
}

function usage(name, why) {
    process.stderr.write(`${name}: ${why}\n` +
        `usage: ${name} [--loops N] [--interval SEC] [--ready-file PATH] [--no-quit]\n` +
        '       [--crash-after N] [--wait-file PATH] [--pipe]\n');
    process.exit(2);
}

function parseArgs(name, argv) {
    const args = {loops: 3, interval: 0.5, readyFile: null, noQuit: false, crashAfter: 0,
                  waitFile: null, pipe: false};
    for (let i = 0; i < argv.length; i++) {
        const value = () => {
            if (i + 1 >= argv.length)
                usage(name, `${argv[i]} needs a value`);
            return argv[++i];
        };
        switch (argv[i]) {
        case '--loops': args.loops = Number(value()); break;
        case '--interval': args.interval = Number(value()); break;
        case '--ready-file': args.readyFile = value(); break;
        case '--no-quit': args.noQuit = true; break;
        case '--crash-after': args.crashAfter = Number(value()); break;
        case '--wait-file': args.waitFile = value(); break;
        case '--pipe': args.pipe = true; break;
        default: usage(name, `unknown argument ${argv[i]}`);
        }
    }
    return args;
}

const sleep = sec => new Promise(resolve => setTimeout(resolve, sec * 1000));

async function waitForFile(file) {
    while (!fs.existsSync(file))
        await sleep(0.02);
}

function writeReady(file) {
    fs.writeFileSync(file + '.tmp', `${process.pid}\n`);
    fs.renameSync(file + '.tmp', file);
}

// The two libraries' browsers and pages answer the same calls; only how
// the text of an element is read differs (countText(page)).
function browserSession(browser, page, countText) {
    return {
        onGone(handler) { browser.on('disconnected', handler); },
        async read(url) {
            await page.goto(url);
            return {title: await page.title(), text: await countText(page)};
        },
        close() { return browser.close(); },
    };
}

async function loop(bot, args) {
    const browser = await bot.launch(args);
    let gone = false;
    const goneEvent = new Promise(resolve => browser.onGone(() => { gone = true; resolve(); }));
    for (let i = 0; i < args.loops; i++) {
        let seen;
        try {
            seen = await browser.read(PAGE);
        } catch (err) {
            // a page load can fail before the library reports the browser gone
            if (args.waitFile)
                await Promise.race([goneEvent, sleep(5)]);
            if (!gone || !args.waitFile)
                throw err;
        }
        if (gone && args.waitFile) {
            console.log(`round ${i + 1}: the browser went away`);
            await waitForFile(args.waitFile);
            return;
        }
        console.log(`round ${i + 1}: '${seen.title}': ${seen.text}`);
        if (i === 0 && args.readyFile)
            writeReady(args.readyFile);
        // a bot notices at once when its browser goes away under it
        await Promise.race([sleep(args.interval), goneEvent]);
        if (args.crashAfter && i + 1 >= args.crashAfter)
            throw new Error(`crashing in round ${i + 1} as asked, without closing the browser`);
    }
    if (!args.noQuit)
        await browser.close();
}

// Runs the bot; exits 0 when its loop is done, as a script that ends does
// (process.exit: a browser left open would keep Node's event loop alive).
// An exception is left unhandled: Node prints it and exits with status 1.
function run(bot) {
    const args = parseArgs(bot.name, process.argv.slice(2));
    loop(bot, args).then(() => process.exit(0));
}

module.exports = {CHROMIUM, PAGE, browserSession, chromiumFlags, run};

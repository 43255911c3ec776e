#!/usr/bin/env node
// A plain Puppeteer bot (npm puppeteer-core) for Debian's chromium.
//
// It launches chromium (Puppeteer makes its temporary profile,
// /tmp/puppeteer_dev_chrome_profile-*), loads a local page, reads something
// off it and loops.  Install its package once with `scripts/deps.sh`
// (`npm ci` in examples/), then, under chromereaper:
//
//     chromereaper run -- node examples/puppeteer_bot.js --loops 3
//
// --ready-file PATH  write "<pid>\n" to PATH once the first page was read
//                    (tests and the demo wait for it, then kill the bot)
// --no-quit          leave without browser.close(), as a crashing bot would
// --crash-after N    throw an uncaught exception in round N, skipping close()
// --wait-file PATH   when the browser goes away under the bot, wait until
//                    PATH exists, then exit 0 (without it: the next page
//                    load fails, an uncaught exception)
// --pipe             talk to the browser over a pipe instead of a websocket
'use strict';

const common = require('./node_bot_common');
const puppeteer = require('puppeteer-core');

common.run({
    name: 'puppeteer_bot',
    async launch(args) {
        const browser = await puppeteer.launch({
            executablePath: common.CHROMIUM,
            headless: true,
            pipe: args.pipe,
            args: common.chromiumFlags(),
        });
        return common.browserSession(browser, await browser.newPage(),
                                     page => page.$eval('#count', el => el.textContent));
    },
});

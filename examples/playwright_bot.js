#!/usr/bin/env node
// A plain Playwright bot (npm playwright-core) for Debian's chromium.
//
// It launches chromium (Playwright makes its temporary profile,
// /tmp/playwright_chromiumdev_profile-*, and an artifacts directory,
// /tmp/playwright-artifacts-*), loads a local page, reads something off it
// and loops.  Install its package once with `scripts/deps.sh` (`npm ci` in
// examples/), then, under chromereaper:
//
//     chromereaper run -- node examples/playwright_bot.js --loops 3
//
// Options as examples/puppeteer_bot.js's (--pipe is accepted and ignored:
// Playwright always talks to chromium over a pipe).
'use strict';

const common = require('./node_bot_common');
const {chromium} = require('playwright-core');

common.run({
    name: 'playwright_bot',
    async launch() {
        const browser = await chromium.launch({
            executablePath: common.CHROMIUM,
            headless: true,
            args: common.chromiumFlags(),
        });
        return common.browserSession(browser, await browser.newPage(),
                                     page => page.textContent('#count'));
    },
});

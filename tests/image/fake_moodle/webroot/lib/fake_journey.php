<?php
// Stand-in pages for the browser journey (python -m journey): what the fake release can show of Moodle's
// login, dashboard and course pages. A test breaks them on purpose by writing a fault's name to
// $dataroot/fake-journey-fault: "missing-script" (a script that answers 404) or "script-error".

const FAKE_SESSION_COOKIE = 'FakeMoodleSession';

function fake_journey_logged_in(): bool {
    return ($_COOKIE[FAKE_SESSION_COOKIE] ?? '') === 'monitor';
}

function fake_journey_require_login(): void {
    if (!fake_journey_logged_in()) {
        header('Location: /login/index.php', true, 303);
        exit;
    }
}

function fake_journey_page(string $bodyid, string $content): void {
    $fault = @file_get_contents('/var/www/moodledata/fake-journey-fault') ?: '';
    $scripts = '<script src="/lib/fake_amd.js"></script>';
    if (trim($fault) === 'missing-script') {
        $scripts .= '<script src="/lib/amd/build/missing.min.js"></script>';
    } elseif (trim($fault) === 'script-error') {
        $scripts .= '<script>throw new Error("injected by the test");</script>';
    }
    $menu = fake_journey_logged_in() ? '<a id="user-menu-toggle" href="#">Site Monitor</a>' : '';
    header('Content-Type: text/html; charset=utf-8');
    echo "<!DOCTYPE html><html><head><title>Fake Moodle</title><link rel=\"icon\" href=\"data:,\">$scripts</head>",
        "<body id=\"$bodyid\"><nav>$menu</nav><main>$content</main></body></html>";
}

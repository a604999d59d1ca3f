<?php
require __DIR__ . '/../lib/fake_journey.php';
fake_journey_require_login();
fake_journey_page('page-my-index', '<h1>Dashboard</h1>');

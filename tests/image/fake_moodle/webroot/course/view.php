<?php
require __DIR__ . '/../lib/fake_journey.php';
fake_journey_require_login();
fake_journey_page('page-course-view-topics', '<h1>' . htmlspecialchars($_GET['name'] ?? '') . '</h1>');

"""How long each hop waits for a slow request: one place for CloudFront, the ALB, nginx and PHP.

A request passes CloudFront -> ALB -> nginx -> php-fpm. Each hop gives up on its own clock, and the
shortest one decides what the user sees; a hop that gives up later than the one in front of it keeps
working for nobody. So the figures are ordered, and tests/unit/test_timeouts.py checks the order and
that image/nginx/nginx.conf and image/php/moodle.ini say the same as this module.

What still runs inside a web request in Moodle 5.1 (read in the 5.1.6 tree): course backup and restore
run as background (ad-hoc) tasks by default (``enableasyncbackup`` defaults to 1,
admin/settings/courses.php); large uploads stream their body the whole time, so no idle timeout fires
while bytes flow; the operations that stay synchronous (bulk user upload, the web upgrade page,
restore with async off) raise PHP's limit themselves (``core_php_time_limit::raise``) and print
progress as they go, which resets CloudFront's read timeout at each chunk. Nothing legitimate is left
that is silent for a minute.
"""

CLOUDFRONT_ORIGIN_READ_TIMEOUT = 60
"""Seconds CloudFront waits for the first byte, and between two bytes, of the origin's answer. 60 is
the most it allows without a quota increase (which would be a manual step), so everything behind it is
arranged around it."""

CLOUDFRONT_ORIGIN_KEEPALIVE_TIMEOUT = 60
"""Seconds CloudFront keeps an idle connection to the ALB for reuse (at most 60 without a quota
increase)."""

ALB_IDLE_TIMEOUT = 65
"""Seconds the ALB keeps a connection (to CloudFront or to a task) open without a byte: longer than
CloudFront waits, so the ALB never cuts an answer CloudFront still waits for, nor closes a connection
CloudFront still counts on reusing."""

NGINX_KEEPALIVE_TIMEOUT = 75
"""Seconds nginx keeps an idle ALB connection: longer than the ALB's idle timeout, so the ALB always
closes first and never sends a request on a connection nginx has just closed (a 502), as the ALB guide
recommends for targets."""

NGINX_UPSTREAM_TIMEOUT = ALB_IDLE_TIMEOUT
"""nginx's fastcgi_read_timeout, fastcgi_send_timeout and client_body_timeout (each between two reads
or writes): as long as the ALB waits, so nginx never cuts first, and no longer, since after that nobody
is listening."""

PHP_MAX_EXECUTION_TIME = 55
"""PHP's max_execution_time: shorter than CloudFront's read timeout, so a page that runs away without
output ends in PHP (which Moodle logs) rather than in CloudFront's bare 504, while Moodle's long
operations raise the limit for themselves."""

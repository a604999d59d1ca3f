"""The MySQL server settings of the RDS parameter group (database.py), free of CDK: the tests' MySQL server
(tests/image/mysql_server.py) starts with the same ones."""

SERVER_PARAMETERS = {
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_unicode_ci",
    "innodb_file_per_table": "1",
    "max_allowed_packet": "67108864",
    "slow_query_log": "1",
    "long_query_time": "2",
    "log_output": "FILE",
}
"""utf8mb4 everywhere, the row format and sizes Moodle expects, and the slow-query log."""

"""Environment for the benchmarks' production-mode servers and loaders: pingan refuses to start
outside demo mode without a strong SECRET_KEY and the personal-data keys, and redirects plain
HTTP to HTTPS unless told it runs without TLS. Fixed, public and bench-only keys: the benchmark
databases hold generated people, never real ones."""

SECRET = "bench-only-secret-key-not-for-production-use-0123456789"
ENV = {
    "SECRET_KEY": SECRET,
    "DATA_KEYS": "bench1:YmVuY2gtb25seS1zbTRrIQ==",
    "DATA_INDEX_KEY": "YmVuY2gtb25seS1ibGluZC1pbmRleC1rZXktMzJieSE=",
    "AUDIT_HMAC_KEY": "bench-only-audit-chain-key-0123456789abcdef",
    # Benchmarks talk plain HTTP to 127.0.0.1.
    "PINGAN_HTTPS": "0",
}

"""Course tooling for TinyTorch: build releases from masters, grade, check integrity, export."""

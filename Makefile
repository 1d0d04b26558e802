# ClipAD — the two set-up commands: `make demo` and `make test`.
SWIFT ?= swift
CONFIG ?= release

.PHONY: bootstrap build demo test clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c $(CONFIG)

demo: build
	$(SWIFT) run -c $(CONFIG) clipad demo --output demo-output

# Tests run in release (-O, checks kept) with @testable import: numeric code in debug is 10-50x slower.
# scripts/setup-test-venv: the Python venv (outside the repo) the server tests use (tritonclient, schemathesis, selenium);
# scripts/setup-browser: Debian's Chromium, which ReportBrowserTests renders report.html in;
# scripts/setup-server-tools: chromedriver, nginx, wrk for the server tests. All quick when present.
# scripts/test-other-gemm-library: the numeric tests again on the GEMM library (OpenBLAS / oneDNN) not chosen here.
test: bootstrap
	@scripts/setup-test-venv
	@scripts/setup-browser
	@scripts/setup-server-tools
	$(SWIFT) test -c $(CONFIG) --disable-swift-testing
	@SWIFT=$(SWIFT) CONFIG=$(CONFIG) scripts/test-other-gemm-library

clean:
	rm -rf .build demo-output

# binaryrepo — one command each for a fresh Debian machine (run as root, or with sudo for setup-system).
SHELL := /bin/bash
.DEFAULT_GOAL := help
DEBIAN_PACKAGES := docker-registry skopeo podman containerd nginx-light openssl ca-certificates curl wget gnupg chromium fonts-dejavu-core systemd ceph-mon ceph-osd radosgw ceph-common python3-venv maven



.PHONY: loadtest setup-bench help setup setup-system setup-helm setup-oci-conformance setup-npm-tools setup-py-tools setup-maven setup-cargo setup-debian build typecheck serve serve-bun serve-deno test setup-certs check-remote-pull bench bench-quick clean

help:
	@echo "make serve              build and run the server (Node) on the embedded default config, port 8081"
	@echo "make serve-bun          the same server on Bun (npx bun run serve)"
	@echo "make serve-deno         the same server on Deno (npx deno task serve)"
	@echo "make test               install what the tests need (npm ci, Debian packages, helm), build, run every test"
	@echo "make build              type-check and compile to dist/ (what npm start and the binaryrepo bin run)"
	@echo "make typecheck          type-check everything (src, adapters, test, bench) without emitting"
	@echo "make setup              npm ci (when package-lock.json changed)"
	@echo "make setup-system       the Debian packages the tests use (docker-registry, skopeo, podman, containerd, nginx, gnupg)"
	@echo "make setup-helm         helm $(HELM_VERSION), built with go install into .build/bin (the tests' helm)"
	@echo "make setup-oci-conformance  the OCI distribution-spec conformance suite, built with go install into .build/bin"
	@echo "make setup-npm-tools    Verdaccio, pnpm, yarn 1 and 4 (pinned) into .build/npm-tools, for the npm tests"
	@echo "make setup-py-tools     pypiserver, pip, uv, twine, poetry (pinned) into .build/py-tools, for the PyPI tests"
	@echo "make setup-maven        Maven 3.9, 3.10 and 4 (pinned, from the Maven repository) and the plugin seed, for the Maven tests"
	@echo "make setup-cargo        checks the machine's cargo (1.68 or newer, rustup's), the Cargo tests' client"
	@echo "make setup-debian       apt-utils, xz-utils, apt-cacher-ng, sqv from apt (the Debian tests and bench)"
	@echo "make setup-bench        setup-system plus wrk, ab and curl for the bench"
	@echo "make setup-certs        CA + server certificate for nginx/ (nginx/certs/)"
	@echo "make check-remote-pull  upstream registry + binaryrepo + nginx + podman: cold then warm pulls"
	@echo "make bench              pull, Go, Helm, npm, PyPI, Maven, Cargo, Debian, store-size and scale-out benchmarks (see bench/README.md)"
	@echo "make bench-quick        the same benchmarks, smaller, a few minutes"
	@echo "make loadtest           200 clients, 60 s, mixed pulls and pushes, zero errors expected"
	@echo "make clean              remove dist/, data/ and bench/results/"

node_modules/.package-lock.json: package-lock.json
	npm ci
	@touch $@

setup: node_modules/.package-lock.json

# The real third-party peers the tests talk to: docker-registry (CNCF distribution), skopeo, podman, nginx.
setup-system:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

# helm, pinned, built by `go install` from the Go module proxy into .build/bin (the tests' helm).
HELM_VERSION := v3.22.0
.build/bin/helm:
	GOBIN=$(CURDIR)/.build/bin GOTOOLCHAIN=local go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

setup-helm: .build/bin/helm

# The OCI distribution-spec's own conformance suite, pinned, built by `go install` into .build/bin
# (test/docker/oci-conformance.test.ts runs it against a local repo).
OCI_CONFORMANCE_VERSION := v0.0.0-20260831232431-97274622c111
.build/bin/conformance:
	GOBIN=$(CURDIR)/.build/bin GOTOOLCHAIN=local go install github.com/opencontainers/distribution-spec/conformance@$(OCI_CONFORMANCE_VERSION)

setup-oci-conformance: .build/bin/conformance

# The npm tests' real peers, pinned, from the npm registry into .build/npm-tools: Verdaccio (the
# upstream registry), pnpm, yarn 1 and yarn 4 (clients beside the machine's npm). Reinstalled when
# the pins change (the stamp holds them).
NPM_TOOLS := verdaccio@6.8.0 pnpm@10.34.9 yarn@1.22.22 @yarnpkg/cli-dist@4.18.1
# The PyPI tests' real peers, pinned, from PyPI into a virtualenv at .build/py-tools: pypiserver (the
# upstream index), pip, uv, twine and poetry (clients). Reinstalled when the pins change.
PY_TOOLS := pip==26.3 pypiserver==2.4.2 uv==0.13.9 twine==7.0.0 poetry==2.5.1
setup-py-tools:
	@if [ "$$(cat .build/py-tools/.installed 2>/dev/null)" != "$(PY_TOOLS)" ]; then \
	  python3 -m venv .build/py-tools && .build/py-tools/bin/pip install --disable-pip-version-check -q $(PY_TOOLS) && echo "$(PY_TOOLS)" > .build/py-tools/.installed; \
	fi

# The Maven tests' clients and upstream content: Maven 3.9.16, 3.10.0 and 4.0.0-rc-6 from their distribution
# archives on the Maven repository (fetched by the machine's mvn 3.8.7), and the pinned plugins a
# deploy runs, resolved once into .build/maven/seed (test/helpers/maven-seed.ts). Redone when the
# pins in test/helpers/maven.ts or the seed script change.
setup-maven:
	@stamp=$$(cat test/helpers/maven.ts test/helpers/maven-seed.ts | sha256sum | cut -c1-16); \
	if [ "$$(cat .build/maven/.installed 2>/dev/null)" != "$$stamp" ]; then \
	  node --import tsx test/helpers/maven-seed.ts && echo "$$stamp" > .build/maven/.installed; \
	fi

# The Cargo tests' client: the machine's cargo (rustup's, in ~/.cargo/bin on the polyglot machines;
# Debian's own cargo 0.66 predates the sparse protocol, so it is refused here rather than used).
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
setup-cargo:
	@$(CARGO) --version >/dev/null 2>&1 || { echo "cargo not found (install Rust with rustup: cargo 1.68 or newer)"; exit 1; }
	@v=$$($(CARGO) --version | cut -d' ' -f2 | cut -d. -f2); [ "$$v" -ge 68 ] || { echo "cargo $$($(CARGO) --version) is older than 1.68 (no sparse registries)"; exit 1; }

setup-npm-tools:
	@if [ "$$(cat .build/npm-tools/.installed 2>/dev/null)" != "$(NPM_TOOLS)" ]; then \
	  mkdir -p .build/npm-tools && cd .build/npm-tools && npm install --no-audit --no-fund --prefix . $(NPM_TOOLS) && echo "$(NPM_TOOLS)" > .installed; \
	fi

typecheck: setup
	npx tsc -p tsconfig.json --noEmit

build: setup
	npx tsc -p tsconfig.build.json

serve: build
	npm start

serve-bun: setup
	npx bun run serve

serve-deno: setup
	npx deno task serve

# The launch tests run the compiled dist/ as `npm start` does: build first.
test: setup setup-system setup-helm setup-oci-conformance setup-npm-tools setup-py-tools setup-maven setup-cargo setup-debian typecheck build
	npm test

setup-certs:
	sh nginx/setup-certs.sh

check-remote-pull: setup setup-system
	node --import tsx test/e2e/check-remote-pull.ts

# Debian's tools for the apt tests and bench: apt-ftparchive (apt-utils), xz, sqv (apt 3's verifier), apt-cacher-ng (the bench's peer).
setup-debian:
	@dpkg -s apt-utils xz-utils apt-cacher-ng sqv >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends apt-utils xz-utils apt-cacher-ng sqv; }

# The bench's own peers: wrk and ab (apache2-utils) for small-request rates (nginx, docker-registry come with setup-system).
setup-bench: setup-system
	@dpkg -s wrk apache2-utils >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk apache2-utils curl; }

# Node runs the compiled dist/ as `npm start` does (build first).
bench: build setup-bench setup-helm setup-npm-tools setup-maven setup-cargo setup-debian
	node --import tsx bench/pull.ts
	node --import tsx bench/handler-floor.ts
	node --import tsx bench/go.ts
	node --import tsx bench/helm.ts
	node --import tsx bench/store.ts
	node --import tsx bench/scaleout.ts
	node --import tsx bench/upstream-fetch.ts
	node --import tsx bench/npm.ts
	node --import tsx bench/maven.ts
	node --import tsx bench/cargo.ts
	node --import tsx bench/debian.ts

bench-quick: build setup-bench setup-helm setup-npm-tools setup-maven setup-cargo setup-debian
	node --import tsx bench/pull.ts --quick
	node --import tsx bench/handler-floor.ts --quick --runtimes=node
	node --import tsx bench/go.ts --quick
	node --import tsx bench/helm.ts --quick
	node --import tsx bench/store.ts --quick
	node --import tsx bench/scaleout.ts --quick
	node --import tsx bench/npm.ts --quick
	node --import tsx bench/maven.ts --quick
	node --import tsx bench/cargo.ts --quick
	node --import tsx bench/debian.ts --quick

# 200 clients for 60 s: warm GETs, cold pulls and pushes, every body verified (bench/load.ts).
loadtest: build setup-system
	node --import tsx bench/load.ts

clean:
	rm -rf dist data bench/results

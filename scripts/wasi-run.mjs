#!/usr/bin/env node
// Runs a wasm32-wasip1 program (a test binary, when cargo uses this as the
// runner of that target: see .cargo/config.toml) under Node's built-in
// WASI preview1, so unit tests run on a real 32-bit wasm engine.
//
//   scripts/wasi-run.mjs PROGRAM.wasm [ARGS...]
//
// The program gets ARGS, the environment, and the host's / as its /
// (tests find fixtures by absolute paths such as CARGO_MANIFEST_DIR).
// The exit code is the program's; a trap (a panic: wasm32 aborts on
// panic) prints the error and exits with 134, like SIGABRT natively; a
// module that cannot be loaded exits with 1.

// node:wasi prints an ExperimentalWarning when loaded; drop that one
// warning and keep every other.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
	const text = typeof warning === "string" ? warning : warning?.message;
	const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type ?? warning?.name;
	if (type === "ExperimentalWarning" && /WASI/.test(String(text))) return;
	return emitWarning.call(process, warning, ...rest);
};

const { WASI } = await import("node:wasi");
const { readFile } = await import("node:fs/promises");

const [program, ...args] = process.argv.slice(2);
if (!program) {
	console.error("usage: wasi-run.mjs PROGRAM.wasm [ARGS...]");
	process.exit(2);
}

const wasi = new WASI({
	version: "preview1",
	args: [program, ...args],
	env: process.env,
	preopens: { "/": "/" },
	returnOnExit: true,
});

// Each WASI function goes through a plain JS wrapper: called straight from
// wasm, Node 20's fast-call path for them crashes the process (SIGSEGV in
// V8 builtins, here after fd_write once the module's memory has grown;
// nodejs/node#53087). The wrappers cost a JS call per system call.
const wrapped = {};
for (const [name, f] of Object.entries(wasi.wasiImport)) {
	wrapped[name] = (...args) => f(...args);
}
const imports = { wasi_snapshot_preview1: wrapped };

let instance;
try {
	const module = await WebAssembly.compile(await readFile(program));
	instance = await WebAssembly.instantiate(module, imports);
} catch (err) {
	console.error(`wasi-run: cannot load ${program}: ${err?.message ?? err}`);
	process.exit(1);
}
try {
	process.exitCode = wasi.start(instance);
} catch (err) {
	console.error(`wasi-run: ${program}: ${err?.stack ?? err}`);
	process.exitCode = 134;
}

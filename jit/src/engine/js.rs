//! The browser and Node engine: the host's own wasm engine (V8) through
//! the JS WebAssembly API, for the wasm32 build.
//!
//! Machine memory is the CPU's region as allocated inside the emulator's
//! own linear memory: every generated module imports that memory
//! (`wasm_bindgen::memory()`, plain, not shared) and reaches machine
//! address X at X + the region's address ([`Options::memory_base`]). The
//! region is allocated once and never moves; growing the emulator's
//! memory does not move it either (a `WebAssembly.Memory` object stays
//! valid across growth; only `ArrayBuffer` views detach, and this engine
//! keeps none: the bytes of a module are read through wasm-bindgen's
//! view, which it takes anew on every call).
//!
//! A module is compiled with `new WebAssembly.Module` and instantiated at
//! once (V8 compiles each function lazily on its first call, Liftoff first,
//! then TurboFan for what stays hot). Its `wax.step`, `wax.flags` and
//! `wax.fpu` imports are this crate's exports `__wax_jit_step`,
//! `__wax_jit_flags` and `__wax_jit_fpu`
//! (wasm to wasm calls, no JS in between), which reach the [`Host`] of the
//! `run` under way. Instances live in a JS array; Rust holds slot numbers.
//! Their `run` functions are also put into one `WebAssembly.Table`
//! (`wax.links`, every module's import) at the executor's link-table slot
//! before each call, so translated code jumps from page to page with
//! `return_call_indirect` (`Options::link`).
//! Calls go through a small JS function that turns a trap (a translator
//! bug) into an [`EngineError`] rather than unwinding through Rust.

use crate::host::Host;
use crate::{Engine, EngineError, Options};
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wax_cpu::Machine;

#[wasm_bindgen(inline_js = r#"
let imports = null;
let links = null;
const runs = [];
const free = [];
let lastError = '';

export function waxJitInit(memory, exports) {
  links = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  imports = { wax: { mem: memory, step: exports.__wax_jit_step, flags: exports.__wax_jit_flags, fpu: exports.__wax_jit_fpu, links } };
}

export function waxJitCompile(bytes) {
  try {
    const module = new WebAssembly.Module(bytes);
    const run = new WebAssembly.Instance(module, imports).exports.run;
    const slot = free.length ? free.pop() : runs.length;
    runs[slot] = run;
    return slot;
  } catch (e) {
    lastError = String(e);
    return -1;
  }
}

// Another slot for the compiled page at `slot` (a second frame holding
// the same page): its `run` keeps no state of its own.
export function waxJitTwin(slot) {
  const twin = free.length ? free.pop() : runs.length;
  runs[twin] = runs[slot];
  return twin;
}

export function waxJitRun(slot, block, me) {
  try {
    const run = runs[slot];
    // The executor's slot `me` is where translated code finds this
    // module in the link table (grown in chunks: growing copies it).
    if (me >= links.length) links.grow(Math.max(me + 1 - links.length, links.length, 64));
    if (links.get(me) !== run) links.set(me, run);
    return run(block, me);
  } catch (e) {
    lastError = String(e);
    return -1;
  }
}

export function waxJitFree(slot) {
  runs[slot] = null;
  free.push(slot);
}

export function waxJitError() {
  return lastError;
}

export function waxJitNow() {
  return performance.now();
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = waxJitInit)]
    fn js_init(memory: JsValue, exports: JsValue);
    #[wasm_bindgen(js_name = waxJitCompile)]
    fn js_compile(bytes: &[u8]) -> i32;
    #[wasm_bindgen(js_name = waxJitTwin)]
    fn js_twin(slot: i32) -> i32;
    #[wasm_bindgen(js_name = waxJitRun)]
    fn js_run(slot: i32, block: i32, me: i32) -> i32;
    #[wasm_bindgen(js_name = waxJitFree)]
    fn js_free(slot: i32);
    #[wasm_bindgen(js_name = waxJitError)]
    fn js_error() -> String;
    #[wasm_bindgen(js_name = waxJitNow)]
    fn js_now() -> f64;
}

thread_local! {
    /// The `Host` of the `run` under way (null outside one).
    static HOST: Cell<*mut Host> = const { Cell::new(std::ptr::null_mut()) };
    /// Whether `waxJitInit` ran.
    static READY: Cell<bool> = const { Cell::new(false) };
}

/// Code for a call outside `run` (never happens: only translated code
/// calls the imports, and only inside `run`): an exit with nothing in the
/// control block, which the executor treats as an engine failure.
const NO_HOST: u32 = u32::MAX;

/// `wax.step` of generated modules.
#[wasm_bindgen(js_name = __wax_jit_step)]
pub fn wax_jit_step(eip: u32) -> u32 {
    let h = HOST.get();
    if h.is_null() {
        return NO_HOST;
    }
    // SAFETY: set by `Js::run` for the duration of the call into wasm,
    // the only time generated code (and so this import) runs; nothing
    // else uses the host meanwhile.
    unsafe { (*h).step(eip) }
}

/// `wax.fpu` of generated modules.
#[wasm_bindgen(js_name = __wax_jit_fpu)]
pub fn wax_jit_fpu(op: u32, ea: u32) -> u32 {
    let h = HOST.get();
    if h.is_null() {
        return NO_HOST;
    }
    // SAFETY: as for `wax_jit_step`.
    unsafe { (*h).fpu(op, ea) }
}

/// `wax.flags` of generated modules.
#[wasm_bindgen(js_name = __wax_jit_flags)]
pub fn wax_jit_flags(op: u32, size: u32, res: u32, a: u32, b: u32, eflags: u32) -> u32 {
    let h = HOST.get();
    if h.is_null() {
        return eflags;
    }
    // SAFETY: as for `wax_jit_step`.
    unsafe { (*h).flags(op, size, res, a, b, eflags) }
}

/// The JS WebAssembly engine.
pub struct Js {
    base: u32,
}

/// A compiled and instantiated page: a slot in the JS side's table.
pub struct JsModule {
    slot: i32,
}

impl Drop for JsModule {
    fn drop(&mut self) {
        js_free(self.slot);
    }
}

impl Js {
    /// The engine for `machine`, whose memory must lie in this module's
    /// own linear memory (a `Machine::new` on wasm32).
    pub fn new(machine: &Machine) -> Result<Js, EngineError> {
        let base = machine.region().base_ptr() as usize;
        let len = machine.region().len();
        let base = u32::try_from(base)
            .ok()
            .filter(|b| u64::from(*b) + len as u64 <= 1 << 32)
            .ok_or_else(|| EngineError("machine memory outside the 32-bit memory".into()))?;
        if !READY.get() {
            js_init(wasm_bindgen::memory(), wasm_bindgen::exports());
            READY.set(true);
        }
        Ok(Js { base })
    }
}

impl Engine for Js {
    type Module = JsModule;

    fn options(&self) -> Options {
        Options {
            shared_memory: false,
            // Calls to small check functions: V8 compiles them once per
            // module and inlines nothing across the call, but the modules
            // stay small, which keeps Liftoff and TurboFan cheap.
            inline_checks: false,
            memory_base: self.base,
            // `wax.links` is one JS table for every module (V8 has tail
            // calls).
            link: true,
            reuse_pages: true,
        }
    }

    fn compile(&mut self, wasm: &[u8]) -> Result<JsModule, EngineError> {
        match js_compile(wasm) {
            slot if slot >= 0 => Ok(JsModule { slot }),
            _ => Err(EngineError(js_error())),
        }
    }

    fn now_ns(&self) -> u64 {
        (js_now() * 1e6) as u64
    }

    fn twin(&mut self, module: &JsModule) -> Option<JsModule> {
        Some(JsModule {
            slot: js_twin(module.slot),
        })
    }

    fn run(
        &mut self,
        module: &mut JsModule,
        block: u32,
        slot: u32,
        host: &mut Host,
    ) -> Result<u32, EngineError> {
        let old = HOST.replace(host);
        let r = js_run(module.slot, block as i32, slot as i32);
        HOST.set(old);
        match r {
            -1 => Err(EngineError(js_error())),
            code => Ok(code as u32),
        }
    }
}

//! The file readers against seeded mutations of real files: 100,000 mutated and truncated
//! versions of real safetensors and GGUF headers (all-MiniLM-L6-v2, SmolLM2-135M, and files
//! wgquant writes), each of which must give `Ok` or a clean error: no panic, no hang, and no
//! more heap than the file's size (a counting allocator measures the peak of every parse).
//! One test in this binary, so that nothing else allocates while it measures.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use wgquant::io::{gguf, safetensors};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old {
            let now = NOW.fetch_add(new_size - old, Ordering::Relaxed) + new_size - old;
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            NOW.fetch_sub(old - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap a parse may take beyond the file's size: the parsed structs' own overhead.
const SLACK: usize = 256 << 10;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Safetensors,
    Gguf,
}

/// A real file's header bytes (its first `prefix.len()` bytes) and its length.
struct Sample {
    name: String,
    kind: Kind,
    prefix: Vec<u8>,
    len: u64,
}

fn read_prefix(path: &Path, n: u64) -> Vec<u8> {
    use std::io::Read;
    let mut v = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .take(n)
        .read_to_end(&mut v)
        .unwrap();
    v
}

fn sample(path: &Path) -> Sample {
    let len = std::fs::metadata(path).unwrap().len();
    let head = read_prefix(path, 8);
    if &head[..4] == b"GGUF" {
        let file = gguf::GgufFile::open(path).unwrap();
        let data = file
            .header
            .tensors
            .iter()
            .map(|t| t.offset)
            .min()
            .unwrap_or(len);
        Sample {
            name: path.display().to_string(),
            kind: Kind::Gguf,
            prefix: read_prefix(path, data),
            len,
        }
    } else {
        let header = u64::from_le_bytes(head.try_into().unwrap());
        Sample {
            name: path.display().to_string(),
            kind: Kind::Safetensors,
            prefix: read_prefix(path, 8 + header),
            len,
        }
    }
}

/// xorshift64*: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `s`: bit flips, an interesting number written over a field, bytes inserted
/// or removed, or the file cut short. Positions favour the start of the header and its end
/// (where the GGUF tensor table is).
fn mutate(s: &Sample, rng: &mut Rng) -> (Vec<u8>, u64) {
    let mut b = s.prefix.clone();
    let mut len = s.len;
    let n = b.len();
    let at = |rng: &mut Rng| match rng.below(3) {
        0 => rng.below(n.min(4096)),
        1 => n - 1 - rng.below(n.min(16384)),
        _ => rng.below(n),
    };
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let i = at(rng);
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let values = [
                0,
                1,
                31,
                32,
                33,
                255,
                1 << 31,
                u32::MAX as u64,
                i64::MAX as u64,
            ];
            let v = match rng.below(values.len() + 2) {
                i if i < values.len() => values[i],
                i if i == values.len() => s.len,
                _ => rng.next(),
            };
            let i = at(rng).min(n.saturating_sub(8));
            let width = if rng.below(2) == 0 { 4 } else { 8 };
            let end = (i + width).min(n);
            b[i..end].copy_from_slice(&v.to_le_bytes()[..end - i]);
        }
        2 => {
            let i = at(rng);
            let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
            b.splice(i..i, extra.iter().copied());
            len += extra.len() as u64;
        }
        3 => {
            let i = at(rng);
            let k = (1 + rng.below(16)).min(n - i);
            b.drain(i..i + k);
            len -= k as u64;
        }
        _ => {
            let cut = at(rng);
            b.truncate(cut);
            len = cut as u64;
        }
    }
    (b, len)
}

fn parse(kind: Kind, bytes: &[u8], len: u64) -> bool {
    match kind {
        Kind::Safetensors => safetensors::parse_prefix(bytes, len).is_ok(),
        Kind::Gguf => gguf::parse_header(&mut &bytes[..], len, "<mutated>").is_ok(),
    }
}

#[test]
fn readers_survive_100k_mutations_of_real_files() {
    let dir = common::temp_dir("mutations");
    let mut samples = Vec::new();
    // Files wgquant writes (always here), and the real models (required in CI).
    let written = dir.join("small.gguf");
    let mut w = gguf::GgufWriter::new(
        std::fs::File::create(&written).unwrap(),
        &[
            (
                "general.architecture".into(),
                gguf::MetaValue::String("llama".into()),
            ),
            ("general.alignment".into(), gguf::MetaValue::U32(64)),
            ("x.f".into(), gguf::MetaValue::F64(0.5)),
        ],
        vec![
            gguf::GgufTensorInfo {
                name: "a.weight".into(),
                shape: vec![2, 32],
                ty: gguf::GgmlType::Block(wgquant::GgufType::Q4_0),
            },
            gguf::GgufTensorInfo {
                name: "b".into(),
                shape: vec![3],
                ty: gguf::GgmlType::F32,
            },
        ],
    )
    .unwrap();
    w.write_next(&[0u8; 36]).unwrap();
    w.write_next(&[0u8; 12]).unwrap();
    w.finish().unwrap();
    samples.push(sample(&written));
    if let Some(p) = common::required_path("WGQUANT_MINILM", "all-MiniLM-L6-v2's model.safetensors")
    {
        samples.push(sample(&p));
    }
    if let Some(p) =
        common::required_path("WGQUANT_SMOLLM2_F32", "SmolLM2-135M-Instruct as F32 GGUF")
    {
        samples.push(sample(&p));
    }
    let start = std::time::Instant::now();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut ok, mut cases) = (0usize, 0usize);
    for s in &samples {
        // The unmutated header parses.
        assert!(parse(s.kind, &s.prefix, s.len), "{}", s.name);
    }
    // SmolLM2's header walks 100,000 tokenizer strings, so it gets fewer cases than the others.
    let per_sample = |s: &Sample| match s.kind {
        Kind::Gguf if s.prefix.len() > 1 << 20 => 5_000,
        Kind::Gguf => 55_000,
        Kind::Safetensors => 40_000,
    };
    let total: usize = samples.iter().map(per_sample).sum();
    let scale = 100_000f64 / total as f64;
    for s in &samples {
        let count = (per_sample(s) as f64 * scale).ceil() as usize;
        for case in 0..count {
            let (bytes, len) = mutate(s, &mut rng);
            let before = NOW.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let result = std::panic::catch_unwind(|| parse(s.kind, &bytes, len));
            let peak = PEAK.load(Ordering::Relaxed) - before;
            let parsed =
                result.unwrap_or_else(|_| panic!("{} case {case}: the reader panicked", s.name));
            assert!(
                peak <= len as usize + SLACK,
                "{} case {case}: {peak} bytes of heap for a file of {len}",
                s.name
            );
            ok += usize::from(parsed);
            cases += 1;
        }
    }
    eprintln!(
        "{cases} mutated files from {} samples: {ok} parsed, {} clean errors, {:.1} s",
        samples.len(),
        cases - ok,
        start.elapsed().as_secs_f64()
    );
    assert!(cases >= 100_000);
}

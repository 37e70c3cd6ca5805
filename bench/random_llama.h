// A llama-shaped checkpoint with random fp16 weights, for benchmarks that
// need a real model's sizes but not its weights (bench_cpu --large,
// bench_quantize_layer). Written once into `dir` and reused after.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

struct LlamaShape {
  int hidden = 4096;
  int intermediate = 11008;
  int layers = 32;
  int heads = 32;
  int kv_heads = 32;
  int vocab = 32000;
  int max_positions = 2048;
};

inline std::string write_random_llama(const std::string& dir, const LlamaShape& shape) {
  struct stat st {};
  if (stat((dir + "/model.safetensors").c_str(), &st) == 0) return dir;
  const int hidden = shape.hidden, inter = shape.intermediate, vocab = shape.vocab;
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/config.json") << nlohmann::json{
      {"model_type", "llama"},
      {"hidden_size", hidden},
      {"intermediate_size", inter},
      {"num_hidden_layers", shape.layers},
      {"num_attention_heads", shape.heads},
      {"num_key_value_heads", shape.kv_heads},
      {"vocab_size", vocab},
      {"rms_norm_eps", 1e-5},
      {"max_position_embeddings", shape.max_positions},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float16"},
      {"rope_theta", 10000.0}}.dump(2);
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<Entry> entries = {{"model.embed_tokens.weight", {vocab, hidden}},
                                {"model.norm.weight", {hidden}},
                                {"lm_head.weight", {vocab, hidden}}};
  const int kv = hidden / shape.heads * shape.kv_heads;
  for (int l = 0; l < shape.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    entries.push_back({p + "input_layernorm.weight", {hidden}});
    entries.push_back({p + "post_attention_layernorm.weight", {hidden}});
    entries.push_back({p + "self_attn.q_proj.weight", {hidden, hidden}});
    entries.push_back({p + "self_attn.k_proj.weight", {kv, hidden}});
    entries.push_back({p + "self_attn.v_proj.weight", {kv, hidden}});
    entries.push_back({p + "self_attn.o_proj.weight", {hidden, hidden}});
    entries.push_back({p + "mlp.gate_proj.weight", {inter, hidden}});
    entries.push_back({p + "mlp.up_proj.weight", {inter, hidden}});
    entries.push_back({p + "mlp.down_proj.weight", {hidden, inter}});
  }
  nlohmann::ordered_json header;
  uint64_t offset = 0;
  for (const Entry& e : entries) {
    uint64_t bytes = 2;
    for (int64_t d : e.shape) bytes *= d;
    header[e.name] = {{"dtype", "F16"}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  std::ofstream out(dir + "/model.safetensors", std::ios::binary);
  const uint64_t length = text.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << text;
  std::mt19937 rng(5);
  std::vector<uint16_t> chunk(1 << 20);
  for (const Entry& e : entries) {
    uint64_t count = 1;
    for (int64_t d : e.shape) count *= d;
    const bool norm = e.shape.size() == 1;
    while (count > 0) {
      const uint64_t n = std::min<uint64_t>(count, chunk.size());
      for (uint64_t i = 0; i < n; ++i) {
        // fp16 bits of small values around +-0.02 (norm weights: 1.0).
        chunk[i] = norm ? 0x3c00 : static_cast<uint16_t>(0x2000 + (rng() % 0x0c00) + ((rng() & 1) << 15));
      }
      out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n * 2));
      count -= n;
    }
  }
  return dir;
}

}  // namespace bench

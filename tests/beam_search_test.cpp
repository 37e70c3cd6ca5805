// Beam search against a reference written here from transformers' rules
// (BeamHypotheses.add / is_done, the top 2 x num_beams candidates, only the
// best num_beams may finish), which re-evaluates every candidate's whole
// sequence through the public API: no KV cache is shared, reordered or
// copied, so a fault in the library's slot reuse shows as a mismatch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "api/handles.h"
#include "generate/beam_slots.h"
#include "gptq.h"
#include "test_util.h"

namespace {

using gptq::test::beam_params;

std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

struct Scored {
  std::vector<int32_t> tokens;
  double score = 0;
};

class Reference {
 public:
  Reference(gptq_model* model, gptq_context* context) : model_(model), context_(context) {
    gptq_model_info info;
    info.struct_size = sizeof info;
    EXPECT_EQ(gptq_model_get_info(model, &info), GPTQ_OK);
    vocab_ = info.vocab_size;
  }

  // log p(next token | sequence) for every token, from a fresh evaluation.
  std::vector<double> log_probs(const std::vector<int32_t>& sequence) {
    std::vector<float> logits(vocab_);
    EXPECT_EQ(gptq_context_clear(context_, 0), GPTQ_OK);
    EXPECT_EQ(gptq_context_eval(context_, 0, sequence.data(), sequence.size(), GPTQ_LOGITS_LAST, logits.data(),
                                logits.size()),
              GPTQ_OK)
        << gptq_last_error();
    const double max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(l - max);
    std::vector<double> out(vocab_);
    for (int32_t v = 0; v < vocab_; ++v) out[v] = logits[v] - max - std::log(sum);
    return out;
  }

  // transformers' beam search, step by step, the slow way.
  std::vector<Scored> search(const std::vector<int32_t>& prompt, int32_t num_beams, double length_penalty,
                             int32_t early_stopping, int32_t max_new) {
    struct Beam {
      std::vector<int32_t> tokens;
      double score;
    };
    std::vector<Beam> beams{{{}, 0.0}};
    std::vector<Scored> hyps;  // transformers' BeamHypotheses.beams
    double worst = 1e9;
    auto add = [&](std::vector<int32_t> tokens, double sum) {
      const double score = sum / std::pow(static_cast<double>(tokens.size()), length_penalty);
      if (static_cast<int32_t>(hyps.size()) < num_beams || score > worst) {
        hyps.push_back({std::move(tokens), score});
        if (static_cast<int32_t>(hyps.size()) > num_beams) {
          std::vector<std::pair<double, size_t>> sorted;
          for (size_t i = 0; i < hyps.size(); ++i) sorted.push_back({hyps[i].score, i});
          std::sort(sorted.begin(), sorted.end());
          hyps.erase(hyps.begin() + sorted[0].second);
          worst = sorted[1].first;
        } else {
          worst = std::min(score, worst);
        }
      }
    };
    auto is_done = [&](double best_running, int32_t length) {
      if (static_cast<int32_t>(hyps.size()) < num_beams) return false;
      if (early_stopping == GPTQ_EARLY_STOPPING_TRUE) return true;
      const int32_t best_length =
          early_stopping == GPTQ_EARLY_STOPPING_NEVER && length_penalty > 0 ? max_new : length;
      return worst >= best_running / std::pow(static_cast<double>(best_length), length_penalty);
    };
    int32_t n_eos = 0;
    for (int32_t v = 0; v < vocab_; ++v) n_eos += gptq_model_token_is_eog(model_, v);
    const size_t keep = static_cast<size_t>(std::max(2, 1 + n_eos) * num_beams);
    for (int32_t length = 1; length <= max_new; ++length) {
      struct Candidate {
        double score;
        size_t beam;
        int32_t token;
      };
      std::vector<Candidate> all;
      for (size_t b = 0; b < beams.size(); ++b) {
        std::vector<int32_t> sequence = prompt;
        sequence.insert(sequence.end(), beams[b].tokens.begin(), beams[b].tokens.end());
        const std::vector<double> lp = log_probs(sequence);
        for (int32_t v = 0; v < vocab_; ++v) all.push_back({beams[b].score + lp[v], b, v});
      }
      std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
      std::vector<Beam> next;
      for (size_t rank = 0; rank < keep; ++rank) {
        std::vector<int32_t> tokens = beams[all[rank].beam].tokens;
        tokens.push_back(all[rank].token);
        if (gptq_model_token_is_eog(model_, all[rank].token) || length == max_new) {
          if (rank < static_cast<size_t>(num_beams)) add(std::move(tokens), all[rank].score);
        } else if (next.size() < static_cast<size_t>(num_beams)) {
          next.push_back({std::move(tokens), all[rank].score});
        }
      }
      if (next.empty() || is_done(next[0].score, length)) break;
      beams = std::move(next);
    }
    std::stable_sort(hyps.begin(), hyps.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
    return hyps;
  }

 private:
  gptq_model* model_;
  gptq_context* context_;
  int32_t vocab_ = 0;
};

class BeamSearch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (gptq::test::path_exists(tinydoc())) {
      ASSERT_EQ(gptq_model_load(tinydoc().c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
      // tinydoc never predicts its EOS; ending at a newline too makes
      // hypotheses finish early, at different lengths, with two end ids.
      const std::string newline_ends = gptq::test::model_with_eos_ids(tinydoc(), {2, kNewline});
      ASSERT_EQ(gptq_model_load(newline_ends.c_str(), nullptr, &newline_model_), GPTQ_OK) << gptq_last_error();
    }
  }
  static void TearDownTestSuite() {
    gptq_model_free(model_);
    gptq_model_free(newline_model_);
    model_ = newline_model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "missing " << tinydoc();
  }

  static gptq_context* new_context(int32_t n_seq, int32_t n_ctx = 128, gptq_model* model = model_) {
    gptq_context_params params;
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = n_ctx;
    params.n_seq_max = n_seq;
    params.n_threads = 2;
    gptq_context* context = nullptr;
    EXPECT_EQ(gptq_context_new(model, &params, &context), GPTQ_OK) << gptq_last_error();
    return context;
  }

  static std::vector<int32_t> tokenize(const char* text) {
    std::vector<int32_t> ids(256);
    size_t n = 0;
    EXPECT_EQ(gptq_tokenize(model_, text, std::strlen(text), GPTQ_TOKENIZE_ADD_SPECIAL, ids.data(), ids.size(), &n),
              GPTQ_OK);
    ids.resize(n);
    return ids;
  }

  static std::vector<int32_t> tokens_of(const gptq_generation* g, size_t i) {
    const int32_t* ids = nullptr;
    const size_t n = gptq_generation_tokens(g, i, &ids);
    return std::vector<int32_t>(ids, ids + n);
  }

  static constexpr int32_t kNewline = 13;  // <0x0A>
  static gptq_model* model_;
  static gptq_model* newline_model_;
};
gptq_model* BeamSearch::model_ = nullptr;
gptq_model* BeamSearch::newline_model_ = nullptr;

struct Case {
  bool newline_ends;  // the model whose generation also ends at a newline
  const char* prompt;
  int32_t num_beams;
  int32_t num_return;
  float length_penalty;
  int32_t early_stopping;
  int32_t max_new;
};

const Case kCases[] = {
    {false, "The Linux kernel", 2, 2, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 6},
    {false, "The Linux kernel", 3, 2, 0.0f, GPTQ_EARLY_STOPPING_NEVER, 6},
    {false, "The Linux kernel", 4, 3, 2.0f, GPTQ_EARLY_STOPPING_TRUE, 5},
    {false, "In mathematics, a group is", 4, 4, -1.0f, GPTQ_EARLY_STOPPING_FALSE, 6},
    {true, "The end.", 3, 3, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 10},
    {true, "The end.", 3, 2, 1.0f, GPTQ_EARLY_STOPPING_TRUE, 10},
    {true, "The end.", 3, 3, 2.0f, GPTQ_EARLY_STOPPING_NEVER, 10},
    {true, "The end.", 4, 2, -0.5f, GPTQ_EARLY_STOPPING_NEVER, 10},
    {true, "Installation\n============\n\n", 4, 4, 0.0f, GPTQ_EARLY_STOPPING_NEVER, 10},
    {true, "Installation\n============\n\n", 2, 1, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 10},
    {true, "See also", 4, 2, 3.0f, GPTQ_EARLY_STOPPING_FALSE, 10},
};

TEST_F(BeamSearch, MatchesTheReferenceSearch) {
  gptq_context* contexts[] = {new_context(4), new_context(4, 128, newline_model_)};
  gptq_context* reference_contexts[] = {new_context(1), new_context(1, 128, newline_model_)};
  Reference references[] = {Reference(model_, reference_contexts[0]), Reference(newline_model_, reference_contexts[1])};
  int eos_endings = 0;
  std::vector<size_t> lengths;
  for (const Case& c : kCases) {
    gptq_context* context = contexts[c.newline_ends];
    Reference& reference = references[c.newline_ends];
    gptq_model* model = c.newline_ends ? newline_model_ : model_;
    SCOPED_TRACE(std::string(c.prompt) + " beams " + std::to_string(c.num_beams) + " length_penalty " +
                 std::to_string(c.length_penalty) + " early_stopping " + std::to_string(c.early_stopping));
    const gptq_generate_params p = beam_params(c.num_beams, c.num_return, c.length_penalty, c.early_stopping, c.max_new);
    gptq_generation* g = nullptr;
    ASSERT_EQ(gptq_generate(context, c.prompt, &p, &g), GPTQ_OK) << gptq_last_error();
    const std::vector<Scored> expected =
        reference.search(tokenize(c.prompt), c.num_beams, c.length_penalty, c.early_stopping, c.max_new);
    ASSERT_EQ(gptq_generation_count(g), static_cast<size_t>(c.num_return));
    ASSERT_GE(expected.size(), static_cast<size_t>(c.num_return));
    for (size_t i = 0; i < static_cast<size_t>(c.num_return); ++i) {
      EXPECT_EQ(tokens_of(g, i), expected[i].tokens) << "entry " << i;
      EXPECT_NEAR(gptq_generation_score(g, i), expected[i].score, 1e-4 * std::max(1.0, std::fabs(expected[i].score)))
          << "entry " << i;
      EXPECT_EQ(gptq_generation_prompt_index(g, i), 0);
      const std::vector<int32_t> tokens = tokens_of(g, i);
      const bool eos = !tokens.empty() && gptq_model_token_is_eog(model, tokens.back());
      eos_endings += eos;
      lengths.push_back(tokens.size());
      EXPECT_EQ(gptq_generation_stop_reason(g, i), eos ? GPTQ_STOP_EOS : GPTQ_STOP_LENGTH);
      if (i > 0) {
        EXPECT_GE(gptq_generation_score(g, i - 1), gptq_generation_score(g, i));
      }
    }
    gptq_generation_free(g);
  }
  // Otherwise the cases above would not exercise hypotheses that finish early, at different lengths.
  EXPECT_GE(eos_endings, 4);
  std::sort(lengths.begin(), lengths.end());
  EXPECT_GE(std::unique(lengths.begin(), lengths.end()) - lengths.begin(), 4);
  for (gptq_context* c : contexts) gptq_context_free(c);
  for (gptq_context* c : reference_contexts) gptq_context_free(c);
}

TEST_F(BeamSearch, OneBeamIsGreedy) {
  gptq_context* context = new_context(1);
  const char* prompt = "The history of the city";
  gptq_generate_params p = beam_params(1, 1, 2.0f, GPTQ_EARLY_STOPPING_NEVER, 12);
  gptq_generation* g = nullptr;
  ASSERT_EQ(gptq_generate(context, prompt, &p, &g), GPTQ_OK) << gptq_last_error();
  ASSERT_EQ(gptq_generation_count(g), 1u);
  EXPECT_TRUE(std::isnan(gptq_generation_score(g, 0)));
  // Argmax after argmax, each from a fresh evaluation.
  Reference reference(model_, context);
  std::vector<int32_t> sequence = tokenize(prompt);
  std::vector<int32_t> greedy;
  for (int i = 0; i < 12; ++i) {
    const std::vector<double> lp = reference.log_probs(sequence);
    const auto token = static_cast<int32_t>(std::max_element(lp.begin(), lp.end()) - lp.begin());
    greedy.push_back(token);
    sequence.push_back(token);
    if (gptq_model_token_is_eog(model_, token)) break;
  }
  EXPECT_EQ(tokens_of(g, 0), greedy);
  gptq_generation_free(g);
  gptq_context_free(context);
}

TEST_F(BeamSearch, BatchEqualsSeparatePrompts) {
  const char* prompts[] = {"The Linux kernel", "The end."};
  const gptq_generate_params p = beam_params(3, 2, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 6);
  gptq_context* batch_context = new_context(6);
  gptq_generation* batch = nullptr;
  ASSERT_EQ(gptq_generate_batch(batch_context, prompts, 2, &p, &batch), GPTQ_OK) << gptq_last_error();
  ASSERT_EQ(gptq_generation_count(batch), 4u);
  gptq_context* single = new_context(3);
  for (size_t prompt = 0; prompt < 2; ++prompt) {
    gptq_generation* one = nullptr;
    ASSERT_EQ(gptq_generate(single, prompts[prompt], &p, &one), GPTQ_OK);
    for (size_t k = 0; k < 2; ++k) {
      const size_t entry = prompt * 2 + k;
      EXPECT_EQ(gptq_generation_prompt_index(batch, entry), static_cast<int32_t>(prompt));
      EXPECT_EQ(tokens_of(batch, entry), tokens_of(one, k));
      EXPECT_STREQ(gptq_generation_text(batch, entry), gptq_generation_text(one, k));
      EXPECT_NEAR(gptq_generation_score(batch, entry), gptq_generation_score(one, k), 1e-5);
    }
    gptq_generation_free(one);
  }
  EXPECT_EQ(gptq_generation_prompt_index(batch, 4), -1);
  EXPECT_TRUE(std::isnan(gptq_generation_score(batch, 4)));
  gptq_generation_free(batch);
  gptq_context_free(single);
  gptq_context_free(batch_context);
}

int32_t ignore_tokens(int32_t, int32_t, const char*, size_t, void*) { return 0; }

TEST_F(BeamSearch, BadSettingsAreRefusedWithTheirName) {
  gptq_context* context = new_context(4);
  struct Bad {
    const char* what;
    void (*edit)(gptq_generate_params&);
    gptq_status status;
    const char* message;
  };
  const Bad bad[] = {
      {"more sequences than beams", [](gptq_generate_params& p) { p.num_return_sequences = 5; },
       GPTQ_ERR_INVALID_ARGUMENT, "num_return_sequences"},
      {"no beams", [](gptq_generate_params& p) { p.num_beams = 0; }, GPTQ_ERR_INVALID_ARGUMENT, "num_beams"},
      {"negative beams", [](gptq_generate_params& p) { p.num_beams = -3; }, GPTQ_ERR_INVALID_ARGUMENT, "num_beams"},
      {"no sequences", [](gptq_generate_params& p) { p.num_return_sequences = 0; }, GPTQ_ERR_INVALID_ARGUMENT,
       "num_return_sequences"},
      {"negative sequences", [](gptq_generate_params& p) { p.num_return_sequences = -1; },
       GPTQ_ERR_INVALID_ARGUMENT, "num_return_sequences"},
      {"several greedy sequences",
       [](gptq_generate_params& p) {
         p.num_beams = 1;
         p.num_return_sequences = 2;
       },
       GPTQ_ERR_INVALID_ARGUMENT, "num_return_sequences"},
      {"unknown early stopping", [](gptq_generate_params& p) { p.early_stopping = 3; }, GPTQ_ERR_INVALID_ARGUMENT,
       "early_stopping"},
      {"length penalty NaN", [](gptq_generate_params& p) { p.length_penalty = std::nanf(""); },
       GPTQ_ERR_INVALID_ARGUMENT, "length_penalty"},
      {"more beams than sequences", [](gptq_generate_params& p) { p.num_beams = 5; }, GPTQ_ERR_INVALID_ARGUMENT,
       "n_seq_max >= 5"},
      {"sampling", [](gptq_generate_params& p) { p.temperature = 0.7f; }, GPTQ_ERR_UNSUPPORTED, "sample"},
      {"repetition penalty", [](gptq_generate_params& p) { p.repetition_penalty = 1.2f; }, GPTQ_ERR_UNSUPPORTED,
       "repetition_penalty"},
      {"token callback", [](gptq_generate_params& p) { p.on_token = ignore_tokens; }, GPTQ_ERR_UNSUPPORTED,
       "callback"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    gptq_generate_params p = beam_params(4, 2, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 4);
    b.edit(p);
    gptq_generation* g = reinterpret_cast<gptq_generation*>(&p);
    EXPECT_EQ(gptq_generate(context, "The Linux kernel", &p, &g), b.status);
    EXPECT_EQ(g, nullptr);
    EXPECT_NE(std::string(gptq_last_error()).find(b.message), std::string::npos) << gptq_last_error();
  }
  const char* stops[] = {"\n"};
  gptq_generate_params p = beam_params(2, 1, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 4);
  p.stop_strings = stops;
  p.n_stop_strings = 1;
  gptq_generation* g = nullptr;
  EXPECT_EQ(gptq_generate(context, "x", &p, &g), GPTQ_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(gptq_last_error()).find("stop strings"), std::string::npos);
  // A stream hands out tokens as they are chosen, which beams cannot do.
  p.n_stop_strings = 0;
  const char* prompts[] = {"x"};
  gptq_stream* stream = nullptr;
  EXPECT_EQ(gptq_stream_begin(context, prompts, 1, &p, &stream), GPTQ_ERR_UNSUPPORTED);
  EXPECT_EQ(stream, nullptr);
  EXPECT_NE(std::string(gptq_last_error()).find("beam search"), std::string::npos);
  gptq_context_free(context);
}

TEST_F(BeamSearch, NoNewTokensGivesEmptySequences) {
  gptq_context* context = new_context(3);
  const gptq_generate_params p = beam_params(3, 2, 1.0f, GPTQ_EARLY_STOPPING_FALSE, 0);
  gptq_generation* g = nullptr;
  ASSERT_EQ(gptq_generate(context, "The Linux kernel", &p, &g), GPTQ_OK) << gptq_last_error();
  ASSERT_EQ(gptq_generation_count(g), 2u);
  EXPECT_TRUE(tokens_of(g, 0).empty());
  EXPECT_EQ(gptq_generation_stop_reason(g, 1), GPTQ_STOP_LENGTH);
  gptq_generation_free(g);
  gptq_context_free(context);
}

TEST_F(BeamSearch, ASmallContextEndsTheBeamsThere) {
  const std::vector<int32_t> prompt = tokenize("The Linux kernel");
  const auto n_ctx = static_cast<int32_t>(prompt.size()) + 3;
  gptq_context* context = new_context(2, n_ctx);
  const gptq_generate_params p = beam_params(2, 2, 1.0f, GPTQ_EARLY_STOPPING_NEVER, 50);
  gptq_generation* g = nullptr;
  ASSERT_EQ(gptq_generate(context, "The Linux kernel", &p, &g), GPTQ_OK) << gptq_last_error();
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<int32_t> tokens = tokens_of(g, i);
    const bool eos = !tokens.empty() && gptq_model_token_is_eog(model_, tokens.back());
    // The last token is never evaluated: n_ctx - prompt + 1 tokens fit.
    EXPECT_LE(tokens.size(), 4u);
    if (!eos) {
      EXPECT_EQ(tokens.size(), 4u);
      EXPECT_EQ(gptq_generation_stop_reason(g, i), GPTQ_STOP_CONTEXT_FULL);
    }
  }
  gptq_generation_free(g);
  gptq_context_free(context);
}

// The slots' reuse: only positions past the shared prefix are copied, and
// a slot holding a copied history gives the logits of a fresh evaluation.
TEST_F(BeamSearch, SlotsCopyOnlyTheDivergentSuffix) {
  gptq_context* handle = new_context(3);
  gptq::Context& context = *handle->impl;
  const std::vector<int32_t> prompt = tokenize("The history of the city");
  const auto p = static_cast<int64_t>(prompt.size());
  gptq::BeamSlots slots(context, 0, 3);
  const int64_t vocab = context.model().config().vocab_size;
  std::vector<float> logits(3 * vocab);
  auto eval_last = [&](const std::vector<int32_t>& beam_slots, const std::vector<int32_t>& tokens) {
    std::vector<gptq::SequenceInput> inputs;
    for (size_t i = 0; i < tokens.size(); ++i) inputs.push_back({beam_slots[i], std::span(&tokens[i], 1)});
    context.eval_sequences(inputs, logits.data());
  };
  context.eval_sequences(std::vector<gptq::SequenceInput>{{0, prompt}}, logits.data());
  slots.prefilled(prompt);

  // Three children of the prompt: two slots receive the prompt, once.
  const std::vector<int32_t> first{100, 200, 300};
  std::vector<int32_t> at = slots.assign(std::vector<int32_t>{0, 0, 0}, first);
  EXPECT_EQ(at, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(slots.copied_positions(), 2 * p);
  eval_last(at, first);

  // Beam 200 has two children and beam 300 none: the second child takes
  // 300's slot, which shares the prompt with it, so one position is copied.
  const std::vector<int32_t> second{400, 500, 600};
  at = slots.assign(std::vector<int32_t>{1, 1, 0}, second);
  EXPECT_EQ(at, (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(slots.copied_positions(), 2 * p + 1);
  eval_last(at, second);

  gptq_context* fresh = new_context(1);
  const std::vector<std::vector<int32_t>> histories{{200, 400}, {200, 500}, {100, 600}};
  for (size_t i = 0; i < 3; ++i) {
    std::vector<int32_t> sequence = prompt;
    sequence.insert(sequence.end(), histories[i].begin(), histories[i].end());
    std::vector<float> expected(vocab);
    ASSERT_EQ(gptq_context_clear(fresh, 0), GPTQ_OK);
    ASSERT_EQ(gptq_context_eval(fresh, 0, sequence.data(), sequence.size(), GPTQ_LOGITS_LAST, expected.data(),
                                expected.size()),
              GPTQ_OK);
    EXPECT_EQ(context.seq_length(at[i]), static_cast<int32_t>(sequence.size()));
    EXPECT_LT(gptq::test::relative_l2(std::span(logits.data() + i * vocab, vocab), expected), 1e-5) << "beam " << i;
  }
  gptq_context_free(fresh);
  gptq_context_free(handle);
}

}  // namespace

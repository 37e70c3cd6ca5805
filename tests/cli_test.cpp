// The gptq command line and the C example, run as a user would.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gptq.h"
#include "test_util.h"

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
};

// `with_stderr`: the messages too, after stdout's lines as they come.
Outcome run_command(const std::string& command, bool with_stderr = false) {
  Outcome r;
  FILE* pipe = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string gptq() { return gptq::test::binary_dir() + "/gptq"; }
std::string tinydoc() { return gptq::test::shared_path("models/tinydoc-llama-13m"); }

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_command(gptq()).exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " frobnicate").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " generate --prompt hi").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " generate --model x --prompt hi --max-new-tokens lots").exit_code, 2);
  EXPECT_EQ(run_command(gptq() + " inspect --bogus").exit_code, 2);
  const Outcome help = run_command(gptq() + " generate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--temperature"), std::string::npos);
  EXPECT_EQ(run_command(gptq() + " --version").exit_code, 0);
}

TEST(Cli, FailuresExitWithOne) {
  EXPECT_EQ(run_command(gptq() + " inspect /no/such/dir").exit_code, 1);
  GPTQ_REQUIRE_PATH(tinydoc());
  EXPECT_EQ(run_command(gptq() + " perplexity --model " + tinydoc() + " --file /no/such/file").exit_code, 1);
}

TEST(Cli, InspectJson) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq() + " inspect " + tinydoc() + " --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["n_layers"], 6);
  EXPECT_TRUE(j["quantization"].is_null());
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["placement"], "embedding=cpu layers[0-5]=cpu head=cpu");
  EXPECT_EQ(j["n_gpu_layers"], 0);
  EXPECT_EQ(j["compute_dtype"], "float32");
  EXPECT_EQ(j["gpu_weight_bytes"], 0);
}

// Every command that loads a model, with what else it needs, on `device`.
std::vector<std::string> model_commands(const std::string& device, const std::string& scratch) {
  const std::string model = " --model " + tinydoc() + " --device " + device;
  return {
      gptq() + " inspect " + tinydoc() + " --device " + device,
      gptq() + " generate" + model + " --prompt 'The history' --max-new-tokens 2",
      gptq() + " perplexity" + model + " --file " + gptq::test::shared_path("data/wikitext-2/test.txt") +
          " --ctx 64 --max-windows 1",
      gptq() + " quantize" + model + " --rtn --out " + scratch + "/rtn-" + device,
  };
}

TEST(Cli, UnavailableDeviceExitsWithOneAndSaysWhy) {
  GPTQ_REQUIRE_PATH(tinydoc());
  if (gptq_device_count() > 0) GTEST_SKIP() << "a GPU is usable here: " << gptq_device_name(0);
  const std::string scratch = gptq::test::scratch_dir("cli-device");
  for (const std::string& command : model_commands("cuda", scratch)) {
    const Outcome r = run_command(command, true);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.out;
    EXPECT_NE(r.out.find("gptq: error: device 'cuda' is not available: "), std::string::npos) << command << "\n" << r.out;
    EXPECT_NE(r.out.find("GPTQ_ERR_UNSUPPORTED"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(gptq::test::path_exists(scratch + "/rtn-cuda"));
}

TEST(Cli, ExplicitCpuDeviceOptionsRun) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string scratch = gptq::test::scratch_dir("cli-cpu");
  for (const std::string& command : model_commands("cpu", scratch)) {
    // Ignored on the CPU, but accepted everywhere the device is (quantize
    // moves layers to a GPU one at a time: no layer count to give).
    const bool quantize = command.find(" quantize ") != std::string::npos;
    const std::string with_gpu_settings = command + (quantize ? "" : " --n-gpu-layers 2") + " --compute-dtype bf16";
    const Outcome r = run_command(with_gpu_settings, true);
    EXPECT_EQ(r.exit_code, 0) << with_gpu_settings << "\n" << r.out;
  }
  const Outcome r = run_command(gptq() + " generate --model " + tinydoc() +
                                " --prompt 'The history' --max-new-tokens 2 --kv-dtype f16 --json");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["results"][0]["tokens"].size(), 2u);
}

TEST(Cli, BadDeviceValuesAreUsageErrors) {
  const std::string model = " --model " + tinydoc();
  const std::string generate = gptq() + " generate" + model + " --prompt hi";
  const std::string perplexity = gptq() + " perplexity" + model + " --file x.txt";
  const std::string inspect = gptq() + " inspect " + tinydoc();
  const std::string quantize = gptq() + " quantize" + model + " --out x --rtn";
  const std::pair<std::string, std::string> cases[] = {
      {generate + " --compute-dtype f8", "--compute-dtype must be auto, f16, bf16 or f32, not 'f8'"},
      {generate + " --kv-dtype int4", "--kv-dtype must be auto, f16, bf16 or f32, not 'int4'"},
      {generate + " --n-gpu-layers -2", "--n-gpu-layers must be -1"},
      {generate + " --n-gpu-layers many", "--n-gpu-layers expects an integer"},
      {generate + " --device", "--device needs a value"},
      {perplexity + " --kv-dtype F16", "--kv-dtype must be"},
      {perplexity + " --compute-dtype half", "--compute-dtype must be"},
      {inspect + " --n-gpu-layers -3", "--n-gpu-layers must be -1"},
      {inspect + " --kv-dtype f16", "unknown option --kv-dtype"},  // no context, no KV cache
      {quantize + " --compute-dtype fp16", "--compute-dtype must be"},
  };
  for (const auto& [command, message] : cases) {
    const Outcome r = run_command(command, true);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << command << "\n" << r.out;
  }
}

TEST(Cli, GpuDeviceRuns) {
  GPTQ_REQUIRE_PATH(tinydoc());
  if (gptq_device_count() == 0) GTEST_SKIP() << "no usable GPU (" << gptq_system_info() << ")";
  const Outcome inspected = run_command(gptq() + " inspect " + tinydoc() + " --device cuda --n-gpu-layers 2 --json");
  ASSERT_EQ(inspected.exit_code, 0);
  const auto info = nlohmann::json::parse(inspected.out);
  EXPECT_EQ(info["device"], "cuda:0+cpu");
  EXPECT_EQ(info["n_gpu_layers"], 2);
  EXPECT_GT(info["gpu_weight_bytes"].get<double>(), 0.0);
  const Outcome generated = run_command(gptq() + " generate --model " + tinydoc() +
                                        " --device cuda --prompt 'The history of the city' --max-new-tokens 4 --json");
  ASSERT_EQ(generated.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(generated.out)["results"][0]["tokens"].size(), 4u);
}

TEST(Cli, GenerateJsonAndStreaming) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome j = run_command(gptq() + " generate --model " + tinydoc() +
                    " --prompt 'The history of the city' --max-new-tokens 12 --json");
  ASSERT_EQ(j.exit_code, 0);
  const auto parsed = nlohmann::json::parse(j.out);
  const auto& result = parsed["results"][0];
  EXPECT_EQ(result["tokens"].size(), 12u);
  EXPECT_EQ(result["stop_reason"], "length");
  EXPECT_GT(parsed["timings"]["generated_tokens_per_second"].get<double>(), 0.0);

  const Outcome streamed = run_command(gptq() + " generate --model " + tinydoc() +
                           " --prompt 'The history of the city' --max-new-tokens 12");
  ASSERT_EQ(streamed.exit_code, 0);
  EXPECT_EQ(streamed.out, "The history of the city" + result["text"].get<std::string>() + "\n");
}

TEST(Cli, GenerateWithBeamsPrintsEachSequenceAndItsScore) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string base = gptq() + " generate --model " + tinydoc() +
                           " --prompt 'The end.' --max-new-tokens 6 --num-beams 3 --length-penalty 0.5 --threads 2";
  const std::string command = base + " --num-return-sequences 2 --early-stopping never";
  const Outcome j = run_command(command + " --json");
  ASSERT_EQ(j.exit_code, 0);
  const auto results = nlohmann::json::parse(j.out)["results"];
  ASSERT_EQ(results.size(), 2u);

  // The same search through the C API.
  gptq_model* model = nullptr;
  ASSERT_EQ(gptq_model_load(tinydoc().c_str(), nullptr, &model), GPTQ_OK);
  gptq_context_params cp;
  gptq_context_default_params(&cp, sizeof cp);
  cp.n_seq_max = 3;
  cp.n_threads = 2;
  gptq_context* context = nullptr;
  ASSERT_EQ(gptq_context_new(model, &cp, &context), GPTQ_OK);
  const gptq_generate_params p = gptq::test::beam_params(3, 2, 0.5f, GPTQ_EARLY_STOPPING_NEVER, 6);
  gptq_generation* g = nullptr;
  ASSERT_EQ(gptq_generate(context, "The end.", &p, &g), GPTQ_OK) << gptq_last_error();
  std::string text;
  for (size_t i = 0; i < 2; ++i) {
    const int32_t* ids = nullptr;
    const size_t n = gptq_generation_tokens(g, i, &ids);
    EXPECT_EQ(results[i]["tokens"].get<std::vector<int32_t>>(), std::vector<int32_t>(ids, ids + n));
    EXPECT_EQ(results[i]["prompt_index"], 0);
    EXPECT_NEAR(results[i]["score"].get<double>(), gptq_generation_score(g, i), 1e-5);
    char score[64];
    std::snprintf(score, sizeof score, "%.6f", gptq_generation_score(g, i));
    text += std::string("[prompt 0] score ") + score + "\nThe end." + gptq_generation_text(g, i) + "\n---\n";
  }
  gptq_generation_free(g);
  gptq_context_free(context);
  gptq_model_free(model);
  const Outcome plain = run_command(command);
  ASSERT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.out, text);

  const Outcome bad_stop = run_command(base + " --early-stopping sometimes", true);
  EXPECT_EQ(bad_stop.exit_code, 2);
  EXPECT_NE(bad_stop.out.find("--early-stopping takes true, false or never"), std::string::npos) << bad_stop.out;
  const Outcome too_many = run_command(base + " --num-return-sequences 4", true);
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_NE(too_many.out.find("num_return_sequences is 4"), std::string::npos) << too_many.out;
}

TEST(Cli, PerplexityJson) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq() + " perplexity --model " + tinydoc() + " --file " +
                    gptq::test::shared_path("data/wikitext-2/test.txt") + " --ctx 128 --max-windows 3 --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["windows"], 3);
  EXPECT_EQ(j["tokens_scored"], 3 * 127);
  EXPECT_GT(j["perplexity"].get<double>(), 5.0);

  const Outcome read_in = run_command(gptq() + " perplexity --model " + tinydoc() + " --file " +
                          gptq::test::shared_path("data/wikitext-2/test.txt") +
                          " --ctx 128 --max-windows 3 --no-mmap --json");
  ASSERT_EQ(read_in.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_in.out)["perplexity"], j["perplexity"]);
}

TEST(Cli, QuantizeFromJsonLinesWritesACheckpoint) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string dir = gptq::test::scratch_dir("cli-quantize");
  const std::string calib = dir + "/calib.jsonl";
  {
    std::ofstream out(calib);
    out << "{\"text\": \"The history of the city begins with a small harbour and a market.\"}\n";
    out << "{\"input_ids\": [1, 415, 3340, 302, 272, 2990, 349, 1135, 297, 264, 1741, 287]}\n";
  }
  const std::string command = gptq() + " quantize --model " + tinydoc() + " --out " + dir + "/w4 --bits 4 " +
                              "--group-size 64 --desc-act --calib " + calib + " --seqlen 64 --json";
  const Outcome r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["calibration_samples"], 2);
  EXPECT_EQ(report["modules"].size(), 6u * 7u);
  for (const char* stage : {"forward", "hessian", "factorization", "gptq", "packing", "saving"}) {
    EXPECT_GE(report["stage_seconds"][stage].get<double>(), 0.0) << stage;
  }
  EXPECT_GT(report["modules"][0]["seconds"]["factorization"].get<double>(), 0.0);  // q_proj factors the shared H
  EXPECT_EQ(report["modules"][1]["seconds"]["factorization"].get<double>(), 0.0);  // k_proj reuses it
  EXPECT_LT(report["weight_bytes_after"].get<double>(), 0.5 * report["weight_bytes_before"].get<double>());
  const Outcome inspected = run_command(gptq() + " inspect " + dir + "/w4 --json");
  ASSERT_EQ(inspected.exit_code, 0);
  const auto info = nlohmann::json::parse(inspected.out);
  EXPECT_EQ(info["quantization"]["bits"], 4);
  EXPECT_EQ(info["quantization"]["group_size"], 64);

  EXPECT_EQ(run_command(command).exit_code, 1);  // the output directory exists now
  std::ofstream(calib) << "{\"input_ids\": [1, 99999999]}\n";
  EXPECT_EQ(run_command(gptq() + " quantize --model " + tinydoc() + " --out " + dir + "/bad --calib " + calib +
                        " --json").exit_code,
            1);  // a token id past the vocabulary
}

// The mixture-of-experts calibration flags reach gptq_quantize_params:
// a bad value is a usage error or names the parameter; a dense model ignores them.
TEST(Cli, QuantizeExpertCalibrationFlags) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string dir = gptq::test::scratch_dir("cli-quantize-experts");
  const std::string quantize = gptq() + " quantize --model " + tinydoc() + " --rtn --out " + dir;
  Outcome r = run_command(quantize + "/a --min-expert-tokens many", true);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--min-expert-tokens expects an integer"), std::string::npos) << r.out;
  r = run_command(quantize + "/b --min-expert-tokens -2", true);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("min_expert_tokens must be -1, 0 or positive"), std::string::npos) << r.out;
  EXPECT_EQ(run_command(quantize + "/c --all-experts --min-expert-tokens 64").exit_code, 0);
}

TEST(Cli, ChatTemplatePrintsThePrompt) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string dir = gptq::test::scratch_dir("cli_chat_template");
  std::ofstream(dir + "/messages.json") << R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])";
  std::ofstream(dir + "/template.jinja")
      << "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
         "{% if add_generation_prompt %}[assistant]{% endif %}";
  const std::string command = gptq() + " chat-template --model " + tinydoc() + " --messages " + dir + "/messages.json";
  const Outcome r = run_command(command + " --template " + dir + "/template.jinja");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "<s>[system] Be brief.\n[user] Hi\n[assistant]");
  EXPECT_EQ(run_command(command + " --template " + dir + "/template.jinja --no-generation-prompt").out,
            "<s>[system] Be brief.\n[user] Hi\n");
  const Outcome no_template = run_command(command, true);  // tinydoc's tokenizer_config.json has none
  EXPECT_EQ(no_template.exit_code, 1);
  EXPECT_NE(no_template.out.find("has no chat template"), std::string::npos) << no_template.out;
  EXPECT_EQ(run_command(gptq() + " chat-template --model " + tinydoc()).exit_code, 2);
}

TEST(Cli, ChatStreamsReplies) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const std::string dir = gptq::test::scratch_dir("cli_chat");
  std::ofstream(dir + "/template.jinja") << "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:";
  std::ofstream(dir + "/input.txt") << "Hello\nHow are you?\n";
  const Outcome r = run_command(gptq() + " chat --model " + tinydoc() + " --template " + dir +
                                "/template.jinja --max-new-tokens 4 --threads 2 < " + dir + "/input.txt");
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n') << r.out;  // each reply ends its line
}

TEST(Examples, CGenerateStreams) {
  GPTQ_REQUIRE_PATH(tinydoc());
  const Outcome r = run_command(gptq::test::binary_dir() + "/example_generate " + tinydoc() + " 'The history of the city' 8");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("The history of the city"), std::string::npos);
  EXPECT_NE(r.out.find("[8 tokens"), std::string::npos);
  EXPECT_EQ(run_command(gptq::test::binary_dir() + "/example_generate /no/such/model").exit_code, 1);
}

}  // namespace

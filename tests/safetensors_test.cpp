// The safetensors reader accepts what the reference writes and refuses
// every kind of malformed file with GPTQ_ERR_FORMAT and a message.
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "test_util.h"

namespace gptq {
namespace {

std::string raw_file(const std::string& dir, const std::string& name, const std::string& header, size_t data_bytes,
                     uint64_t declared_header_len = UINT64_MAX) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  const uint64_t len = declared_header_len == UINT64_MAX ? header.size() : declared_header_len;
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(len >> (8 * i)));
  out << header;
  out << std::string(data_bytes, '\0');
  return path;
}

void expect_format_error(const std::string& path, const std::string& fragment) {
  try {
    SafetensorsFile::open(path, true);
    ADD_FAILURE() << "opened " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), GPTQ_ERR_FORMAT) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Safetensors, WriterOutputReadsBack) {
  const std::string dir = test::scratch_dir("safetensors_roundtrip");
  const std::vector<uint16_t> halves = {0x3c00, 0x4000, 0xc000, 0x0000, 0x7bff, 0x0001};
  const std::vector<int32_t> ints = {1, -2, 3};
  write_safetensors(dir + "/a.safetensors",
                    {{"w", DType::F16, {2, 3}, halves.data()}, {"i", DType::I32, {3}, ints.data()}, {"empty", DType::F32, {0, 4}, nullptr}},
                    {{"format", "pt"}});
  auto file = SafetensorsFile::open(dir + "/a.safetensors", true);
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const TensorView* w = file->find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape_string(), "[2, 3]");
  const std::vector<float> floats = tensor_to_float(*w);
  EXPECT_EQ(floats[0], 1.0f);
  EXPECT_EQ(floats[1], 2.0f);
  EXPECT_EQ(floats[2], -2.0f);
  EXPECT_EQ(floats[4], 65504.0f);
  EXPECT_FLOAT_EQ(floats[5], 5.9604644775390625e-8f);
  EXPECT_EQ(tensor_to_int64(*file->find("i")), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(file->find("empty")->numel(), 0);
  EXPECT_EQ(file->find("missing"), nullptr);
  // Not memory-mapped: same content.
  auto read = SafetensorsFile::open(dir + "/a.safetensors", false);
  EXPECT_EQ(tensor_to_float(*read->find("w")), floats);
}

TEST(Safetensors, RefusesMalformedFiles) {
  const std::string dir = test::scratch_dir("safetensors_bad");
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  expect_format_error(raw_file(dir, "empty_header", "", 0), "malformed safetensors header");
  {
    std::ofstream tiny(dir + "/tiny", std::ios::binary);
    tiny << "abc";
  }
  expect_format_error(dir + "/tiny", "not a safetensors file");
  expect_format_error(raw_file(dir, "past_eof", "{" + ok_entry + "}", 8, 1000), "runs past the end");
  expect_format_error(raw_file(dir, "huge_header", "{}", 0, 200ull << 20), "100 MB");
  expect_format_error(raw_file(dir, "not_json", "{\"a\":", 0), "malformed safetensors header");
  expect_format_error(raw_file(dir, "not_object", "[1,2]", 0), "not a JSON object");
  expect_format_error(raw_file(dir, "dup", "{" + ok_entry + "," + ok_entry + "}", 8), "appears twice");
  expect_format_error(raw_file(dir, "dtype", R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
                      "unknown dtype 'Q4'");
  expect_format_error(raw_file(dir, "count", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                      "needs 12");
  expect_format_error(raw_file(dir, "range", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
                      "outside");
  expect_format_error(raw_file(dir, "reversed", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
                      "outside");
  expect_format_error(
      raw_file(dir, "overflow", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
      "overflows");
  expect_format_error(raw_file(dir, "negative", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                      "non-negative");
  expect_format_error(
      raw_file(dir, "overlap",
               R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
               12),
      "overlaps");
  expect_format_error(raw_file(dir, "hole", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                      "belong to no tensor");
  expect_format_error(raw_file(dir, "tail", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8),
                      "belong to no tensor");
  expect_format_error(raw_file(dir, "meta", R"({"__metadata__":{"k":1}})", 0), "not a string");
  expect_format_error(raw_file(dir, "no_offsets", R"({"a":{"dtype":"F32","shape":[2]}})", 8), "missing data_offsets");
}

TEST(Safetensors, MissingFileIsNotFound) {
  try {
    SafetensorsFile::open("/nonexistent/x.safetensors", true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), GPTQ_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace gptq

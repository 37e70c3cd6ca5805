#include "backend/cuda/gpu_weights.h"

#include <cstring>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gptq_repack.h"
#include "model/layer.h"

namespace gptq::cuda {

int64_t GpuLinear::device_bytes() const {
  // A shared dense matrix counts for whoever holds it; the shared order is small.
  return static_cast<int64_t>((dense ? dense->bytes() : 0) + weights.bytes() + scales.bytes() + zero_bias.bytes() +
                              block_group.bytes() + bias.bytes());
}

namespace {

constexpr size_t kChunkBytes = size_t{32} << 20;
constexpr int kSlots = 2;

class GpuPreparer final : public WeightPreparer {
 public:
  GpuPreparer(DeviceId device, FloatType compute)
      : device_(device), compute_(compute), scope_(device), pool_(default_thread_count()) {
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    for (int i = 0; i < kSlots; ++i) {
      pinned_[i] = PinnedBuffer(kChunkBytes);
      staged_[i] = DeviceBuffer(device, kChunkBytes, "weight upload staging");
      check(cudaEventCreate(&done_[i]), "cudaEventCreate");
    }
  }

  ~GpuPreparer() override {
    (void)cudaStreamSynchronize(stream_);
    for (cudaEvent_t e : done_) (void)cudaEventDestroy(e);
    (void)cudaStreamDestroy(stream_);
  }

  std::shared_ptr<const PreparedWeights> linear(const Linear& linear) override {
    DeviceScope scope(device_);
    auto out = std::make_shared<GpuLinear>();
    out->in_features = linear.in_features();
    out->out_features = linear.out_features();
    if (linear.is_quantized()) {
      prepare_gptq(linear, *out);
    } else {
      out->dense = matrix(linear.dense_weights(), "dense weights");
    }
    if (!linear.bias().empty()) {
      out->bias = upload_values(linear.bias().data(), linear.bias().size(), compute_, "a bias");
    }
    return out;
  }

  std::shared_ptr<const PreparedWeights> norm(const Norm& norm) override {
    DeviceScope scope(device_);
    auto out = std::make_shared<GpuNorm>();
    out->weight = upload_values(norm.weight.data(), norm.weight.size(), FloatType::F32, "norm weights");
    if (!norm.bias.empty()) out->bias = upload_values(norm.bias.data(), norm.bias.size(), FloatType::F32, "norm biases");
    return out;
  }

  std::shared_ptr<const PreparedWeights> table(const DenseMatrix& table) override {
    DeviceScope scope(device_);
    auto out = std::make_shared<GpuTable>();
    out->matrix = matrix(table, "an embedding table");
    return out;
  }

  void finish() override {
    DeviceScope scope(device_);
    check(cudaStreamSynchronize(stream_), "uploading weights");
  }

  void forget_shared() override {
    matrices_.clear();
    orders_.clear();
  }

 private:
  // The matrix in the compute type; one upload per host matrix (a tied
  // head and its embedding share theirs).
  std::shared_ptr<const DeviceBuffer> matrix(const DenseMatrix& m, const char* what) {
    if (auto it = matrices_.find(m.data); it != matrices_.end()) return it->second;
    const size_t n = static_cast<size_t>(m.n_rows * m.n_cols);
    auto buffer = std::make_shared<DeviceBuffer>(device_, n * float_type_size(compute_), what);
    if (m.row_stride != m.n_cols) fail(GPTQ_ERR_INTERNAL, "strided dense weights cannot be uploaded");
    upload(m.data, n, m.type, buffer->get(), compute_);
    matrices_.emplace(m.data, buffer);
    return buffer;
  }

  void prepare_gptq(const Linear& linear, GpuLinear& out) {
    const QuantizedLinear& q = linear.gptq();
    const gpu::GptqTilesHost host = gpu::repack_gptq_tiles(q.source(), &pool_);
    out.tiles = host.tiles;
    out.weights = upload_bytes(host.weights.data(), host.weights.size() * 4, "GPTQ weights");
    out.scales = upload_values(host.scales.data(), host.scales.size(), compute_, "GPTQ scales");
    std::vector<float> zero_bias(host.zeros);
    const float magic = gpu::zero_magic(compute_, q.bits);
    for (float& z : zero_bias) z += magic;
    out.zero_bias = upload_values(zero_bias.data(), zero_bias.size(), compute_, "GPTQ zero points");
    out.block_group = upload_bytes(host.block_group.data(), host.block_group.size() * 4, "GPTQ groups");
    if (!host.row_source.empty()) {
      auto& shared = orders_[host.row_source];
      if (!shared) {
        shared = std::make_shared<DeviceBuffer>(
            upload_bytes(host.row_source.data(), host.row_source.size() * 4, "a GPTQ row order"));
      }
      out.row_source = shared;
    }
    out.tiles.weights = out.weights.get();
    out.tiles.scales = out.scales.get();
    out.tiles.zero_bias = out.zero_bias.get();
    out.tiles.block_group = out.block_group.as<int32_t>();
    out.tiles.row_source = out.row_source ? out.row_source->as<int32_t>() : nullptr;
  }

  DeviceBuffer upload_values(const float* values, size_t n, FloatType type, const char* what) {
    std::vector<uint8_t> bytes(n * float_type_size(type));
    encode_floats(values, n, type, bytes.data());
    return upload_bytes(bytes.data(), bytes.size(), what);
  }

  DeviceBuffer upload_bytes(const void* data, size_t bytes, const char* what) {
    DeviceBuffer buffer(device_, bytes, what);
    upload(data, bytes, FloatType::F32, buffer.get(), FloatType::F32, /*raw=*/true);
    return buffer;
  }

  // Copies n elements of `from` (or n raw bytes) through the pinned ring into
  // dst, converting them to `to` on the device when the types differ.
  void upload(const void* src, size_t n, FloatType from, void* dst, FloatType to, bool raw = false) {
    const size_t in_size = raw ? 1 : float_type_size(from), out_size = raw ? 1 : float_type_size(to);
    const size_t per_chunk = kChunkBytes / in_size;
    for (size_t first = 0; first < n; first += per_chunk) {
      const size_t count = std::min(per_chunk, n - first);
      const int slot = next_slot_;
      next_slot_ = (next_slot_ + 1) % kSlots;
      check(cudaEventSynchronize(done_[slot]), "uploading weights");  // the slot's last copy is done
      std::memcpy(pinned_[slot].get(), static_cast<const uint8_t*>(src) + first * in_size, count * in_size);
      uint8_t* target = static_cast<uint8_t*>(dst) + first * out_size;
      if (raw || from == to) {
        check(cudaMemcpyAsync(target, pinned_[slot].get(), count * in_size, cudaMemcpyHostToDevice, stream_),
              "uploading weights");
      } else {
        check(cudaMemcpyAsync(staged_[slot].get(), pinned_[slot].get(), count * in_size, cudaMemcpyHostToDevice,
                              stream_),
              "uploading weights");
        check(gpu::launch_convert(from, staged_[slot].get(), to, target, static_cast<int64_t>(count), stream_),
              "converting weights");
      }
      check(cudaEventRecord(done_[slot], stream_), "cudaEventRecord");
    }
  }

  DeviceId device_;
  FloatType compute_;
  DeviceScope scope_;
  ThreadPool pool_;  // the repack of GPTQ layers
  cudaStream_t stream_ = nullptr;
  PinnedBuffer pinned_[kSlots];
  DeviceBuffer staged_[kSlots];
  cudaEvent_t done_[kSlots] = {};
  int next_slot_ = 0;
  std::map<const void*, std::shared_ptr<const DeviceBuffer>> matrices_;
  std::map<std::vector<int32_t>, std::shared_ptr<const DeviceBuffer>> orders_;
};

}  // namespace

std::unique_ptr<WeightPreparer> make_gpu_preparer(DeviceId device, FloatType compute) {
  return std::make_unique<GpuPreparer>(device, compute);
}

}  // namespace gptq::cuda

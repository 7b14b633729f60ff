// decompose() from a RowSource: the same bits as from memory, whatever the
// block shape, stopping rule, thread count or number of rounds; slabs of one
// block row at a time; the memory bound; failures of the source.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <limits>

#include "decomposition_support.hpp"
#include "dense_reference.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// Data in memory served as rows, recording how it is read.
class MemoryRows final : public RowSource {
public:
    MemoryRows(Shape shape, const std::vector<float>& data) : shape_(std::move(shape)), data_(data)
    {
        for (std::size_t a = 1; a < shape_.size(); ++a) row_values_ *= shape_[a];
    }
    Shape shape() const override { return shape_; }
    void read_rows(std::size_t first, std::size_t n, float* out) override
    {
        BOOST_TEST_REQUIRE(first + n <= shape_[0]);
        if (fail_at && first <= *fail_at && *fail_at < first + n) throw Error(errc::io, "the disk went away");
        ++reads;
        most_rows = std::max(most_rows, n);
        rows_read += n;
        std::memcpy(out, data_.data() + first * row_values_, n * row_values_ * sizeof(float));
    }

    std::size_t reads = 0, most_rows = 0, rows_read = 0;
    std::optional<std::size_t> fail_at;

private:
    Shape shape_;
    const std::vector<float>& data_;
    std::size_t row_values_ = 1;
};

/// A smooth field in bands of eight noisy rows and eight quiet ones, so that
/// rows of blocks differ in how much they need.
std::vector<float> field(SplitMix64& g, const Shape& shape)
{
    return textured_field(g, shape, 0.21, 2, [](std::size_t row) { return row % 16 < 8 ? 0.9 : 0.05; });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(row_source)

BOOST_AUTO_TEST_CASE(streamed_runs_equal_runs_in_memory_bit_for_bit)
{
    struct Case {
        Shape shape;
        BlockChoice blocks;
    };
    const std::vector<Case> cases = {
        {{67, 45}, BlockChoice::of({16, 16})},
        {{40, 33, 5}, BlockChoice::of({8, 16, 5})},
        {{96, 80}, BlockChoice::automatic()},
        {{30, 20, 3}, BlockChoice::whole()},
        {{300}, BlockChoice::of({64})},
        {{1600, 1400}, BlockChoice::automatic()},  // over 2^21 values: auto tries a central crop
    };
    SplitMix64 g(17);
    for (const Case& c : cases) {
        const std::vector<float> x = field(g, c.shape);
        for (int rule = 0; rule < 3; ++rule) {
            if (count(c.shape) > 1000000 && rule != 0) continue;  // one rule is enough for the large case
            DecomposeOptions o;
            o.blocks = c.blocks;
            o.restarts = 1;
            if (rule == 0) o.bits_per_value = c.shape.size() == 1 ? 2.0 : 0.7;
            if (rule == 1) o.width = 3;
            if (rule == 2) o.rel_error = 0.2;
            o.first_pass_share = 0.1;  // several rounds: blocks are read again
            BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " rule " << rule)
            {
                DecomposeReport in_memory_report;
                const auto in_memory = decompose(TensorView<float>{x.data(), c.shape}, o, &in_memory_report);
                for (unsigned threads : {1u, 2u}) {
                    o.threads = threads;
                    MemoryRows rows(c.shape, x);
                    DecomposeReport report;
                    const auto streamed = decompose(rows, o, &report);
                    expect_same(streamed, in_memory);
                    BOOST_TEST(report.rel_error == in_memory_report.rel_error);
                    // Measured as error_against() measures.
                    BOOST_TEST_REQUIRE(report.metrics.has_value());
                    const ErrorMetrics m = in_memory.error_against(x, 1);
                    BOOST_TEST(report.metrics->rel_fro_error == m.rel_fro_error);
                    BOOST_TEST(report.metrics->max_abs_error == m.max_abs_error);
                    BOOST_TEST(report.metrics->psnr_db == m.psnr_db);
                    // Slabs of one block row (or the crop's single rows);
                    // one block is the whole tensor.
                    if (streamed.block_count() > 1)
                        BOOST_TEST(rows.most_rows <= streamed.block_shape()[0]);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_auto_rule_from_rows_matches_the_rule_in_memory_and_passes_bad_options_on)
{
    SplitMix64 g(9);
    for (const Shape& shape : {Shape{96, 80}, Shape{1600, 1400}}) {
        const std::vector<float> x = field(g, shape);
        DecomposeOptions o;
        o.bits_per_value = 1.0;
        o.restarts = 1;
        MemoryRows rows(shape, x);
        const Shape from_rows = auto_block_shape(rows, o);
        BOOST_TEST(from_rows == auto_block_shape(TensorView<float>{x.data(), shape}, o));
        BOOST_TEST(from_rows != shape);  // a smooth field: tiles pay
    }
    // Options that fail every trial are the caller's error, not a reason to
    // choose one block.
    const Shape shape{96, 80};
    const std::vector<float> x = field(g, shape);
    DecomposeOptions o;
    o.bits_per_value = 1.0;
    o.threads = 0;
    check_error([&] { auto_block_shape(TensorView<float>{x.data(), shape}, o); }, errc::invalid_argument,
                {"threads must be at least 1"});
}

BOOST_AUTO_TEST_CASE(the_memory_bound_counts_terms_and_slabs)
{
    SplitMix64 g(5);
    const Shape shape{128, 96};
    const std::vector<float> x = field(g, shape);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({32, 32});
    o.width = 1000000000;
    o.max_memory = 100 << 20;
    MemoryRows rows(shape, x);
    check_error([&] { decompose(rows, o); }, errc::limit, {"GiB for the terms", "more than the memory limit of 100 MiB"});
    BOOST_TEST(rows.reads == 0u);  // refused before any slab is read
    o.width.reset();
    o.bits_per_value = 1e7;
    check_error([&] { decompose(TensorView<float>{x.data(), shape}, o); }, errc::limit, {"for the terms"});
    // Enough memory: the bound does not change the result.
    o.bits_per_value = 1.0;
    o.max_memory = 4 << 20;
    MemoryRows ok(shape, x);
    const auto bounded = decompose(ok, o);
    o.max_memory = 0;
    expect_same(bounded, decompose(TensorView<float>{x.data(), shape}, o));
    // One block must fit whole.
    o.blocks = BlockChoice::whole();
    o.max_memory = 1000;
    check_error([&] { decompose(ok, o); }, errc::limit, {"one block of shape 128x96", "cut it into blocks"});
}

BOOST_AUTO_TEST_CASE(source_failures_and_bad_values_stop_the_run)
{
    SplitMix64 g(6);
    const Shape shape{64, 40};
    std::vector<float> x = field(g, shape);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({8, 40});
    o.threads = 2;
    MemoryRows failing(shape, x);
    failing.fail_at = 50;
    check_error([&] { decompose(failing, o); }, errc::io, {"the disk went away"});
    x[45 * 40 + 3] = std::numeric_limits<float>::quiet_NaN();
    MemoryRows nan(shape, x);
    check_error([&] { decompose(nan, o); }, errc::bad_input, {"1 NaN"});
}

BOOST_AUTO_TEST_SUITE_END()

// A team of members sharing the blocks of one decomposition (block_team.hpp),
// played by threads of this process: every member's blocks, layout and
// report must be those of one process alone, bit for bit, whatever the
// number of members, with re-decomposition rounds, zfp blocks and deflated signs; a
// failure on one member must end every member with its message.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <limits>
#include <thread>

#include "signcut/block_team.hpp"
#include "signcut/decompose.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/zfp_block_codec.hpp"

using namespace signcut;

namespace {

/// What the members of a ThreadTeam share: one slot per member and a
/// barrier.
struct Meeting {
    explicit Meeting(std::size_t n) : barrier(static_cast<std::ptrdiff_t>(n)), slots(n), failures(n) {}
    std::barrier<> barrier;
    std::vector<std::vector<std::uint8_t>> slots;
    std::vector<TeamFailure> failures;
};

class ThreadTeam final : public BlockTeam {
public:
    ThreadTeam(Meeting& meeting, std::size_t member) : meeting_(meeting), member_(member) {}
    std::size_t member() const override { return member_; }
    std::size_t members() const override { return meeting_.slots.size(); }
    std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine,
                                                      const TeamFailure& failure) override
    {
        meeting_.slots[member_].assign(mine.begin(), mine.end());
        meeting_.failures[member_] = failure;
        meeting_.barrier.arrive_and_wait();
        std::vector<std::vector<std::uint8_t>> all = meeting_.slots;
        std::optional<TeamFailure> first;
        for (const TeamFailure& f : meeting_.failures)
            if (f.failed && !first) first = f;
        // Nobody writes the slots again before every member has read them.
        meeting_.barrier.arrive_and_wait();
        if (first) throw Error(first->code, first->message);
        return all;
    }

private:
    Meeting& meeting_;
    std::size_t member_;
};

Tensor field(std::size_t rows, std::size_t cols)
{
    Tensor x = Tensor::from_shape({rows, cols});
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) {
            const double smooth = std::sin(0.09 * double(i)) + std::cos(0.13 * double(j));
            const double rough = std::sin(double(i * 7919 + j * 104729) * 0.618);
            // The first rows are smooth (zfp's), the rest textured.
            x(i, j) = static_cast<float>(i < rows / 2 ? smooth : smooth + 0.4 * rough);
        }
    return x;
}

struct Outcome {
    SignedCutDecomposition d;
    DecomposeReport report;
    std::string error;
};

std::vector<Outcome> run_team(const Tensor& x, DecomposeOptions options, std::size_t n)
{
    Meeting meeting(n);
    std::vector<Outcome> out(n);
    std::vector<std::thread> members;
    for (std::size_t m = 0; m < n; ++m)
        members.emplace_back([&, m] {
            DecomposeOptions o = options;
            o.team = std::make_shared<ThreadTeam>(meeting, m);
            try {
                out[m].d = decompose(x, o, &out[m].report);
            } catch (const Error& e) {
                out[m].error = e.what();
            }
        });
    for (auto& t : members) t.join();
    return out;
}

/// The members' results are `solo`: every member holds the same layout,
/// solo's, and the blocks it decomposed as solo holds them (the others
/// empty).
void check_same(const std::vector<Outcome>& team, const SignedCutDecomposition& solo)
{
    const StoredLayout want = stored_layout(solo);
    for (std::size_t m = 0; m < team.size(); ++m) {
        BOOST_TEST_CONTEXT("member " << m)
        {
            const Outcome& o = team[m];
            BOOST_TEST_REQUIRE(o.error.empty(), o.error);
            BOOST_TEST_REQUIRE(o.report.layout.has_value());
            const StoredLayout& got = *o.report.layout;
            BOOST_TEST(got.widths == want.widths, boost::test_tools::per_element());
            BOOST_TEST(got.stream_sizes == want.stream_sizes);
            BOOST_TEST(got.codecs == want.codecs);
            BOOST_TEST(got.scale_bits == want.scale_bits);
            BOOST_TEST(got.deflate_level == want.deflate_level);
            BOOST_TEST(got.deflated_sign_bytes == want.deflated_sign_bytes);
            BOOST_TEST(got.payload().bits() == solo.payload().bits());
            BOOST_TEST(got.counted_bits_per_value() == solo.counted_bits_per_value());
            BOOST_REQUIRE_EQUAL(o.d.block_count(), solo.block_count());
            for (std::size_t b = 0; b < solo.block_count(); ++b) {
                const bool mine = block_owner(solo.grid(), team.size(), b) == m;
                const SignedCutTerms& t = o.d.block(b);
                if (!mine) {
                    BOOST_TEST(t.width() == 0u);
                    BOOST_TEST(o.d.coded(b).streams.empty());
                    continue;
                }
                BOOST_TEST(t.scales() == solo.block(b).scales(), boost::test_tools::per_element());
                for (std::size_t a = 0; a < t.order(); ++a) {
                    const auto got_words = t.signs(a).words(), want_words = solo.block(b).signs(a).words();
                    BOOST_CHECK_EQUAL_COLLECTIONS(got_words.begin(), got_words.end(), want_words.begin(),
                                                  want_words.end());
                }
                BOOST_TEST(int(o.d.codec(b)) == int(solo.codec(b)));
                BOOST_TEST(o.d.coded(b).streams == solo.coded(b).streams);
            }
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(block_team)

BOOST_AUTO_TEST_CASE(members_give_what_one_process_gives)
{
    const Tensor x = field(70, 52);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({16, 16});
    o.bits_per_value = 3.0;
    o.codecs.push_back(zfp_block_codec());
    o.sign_storage = deflated_signs();
    o.first_pass_share = 0.05;  // so that blocks are decomposed again, in later rounds
    DecomposeReport solo_report;
    const SignedCutDecomposition solo = decompose(x, o, &solo_report);
    BOOST_TEST_REQUIRE(solo_report.rounds > 1);
    BOOST_TEST_REQUIRE(solo.coded_block_count() > 0);
    for (std::size_t n : {1, 2, 3, 6}) {
        BOOST_TEST_CONTEXT("members " << n)
        {
            const std::vector<Outcome> team = run_team(x, o, n);
            check_same(team, solo);
            for (const Outcome& m : team) {
                BOOST_TEST(m.error.empty());
                BOOST_TEST(m.report.rounds == solo_report.rounds);
                BOOST_TEST(m.report.norm2 == solo_report.norm2);
                BOOST_TEST(m.report.mode_updates == solo_report.mode_updates);
                BOOST_TEST(m.report.metrics->rel_fro_error == solo_report.metrics->rel_fro_error);
                BOOST_TEST(m.report.metrics->max_abs_error == solo_report.metrics->max_abs_error);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(an_error_target_too)
{
    const Tensor x = field(48, 64);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({16, 16});
    o.rel_error = 0.05;
    o.first_pass_share = 0.05;
    const SignedCutDecomposition solo = decompose(x, o);
    check_same(run_team(x, o, 2), solo);
}

BOOST_AUTO_TEST_CASE(a_failure_on_one_member_ends_every_member)
{
    // Rows read from a source that fails past row 48: only the last of
    // three members (block rows 3 of 0..3) reads there.
    class FailingRows final : public RowSource {
    public:
        explicit FailingRows(const Tensor& x) : x_(x) {}
        Shape shape() const override { return Shape(x_.shape().begin(), x_.shape().end()); }
        void read_rows(std::size_t first, std::size_t count, float* out) override
        {
            if (first + count > 48) throw Error(errc::io, "cannot read rows past 48");
            std::copy_n(x_.data() + first * x_.shape()[1], count * x_.shape()[1], out);
        }

    private:
        const Tensor& x_;
    };
    const Tensor x = field(64, 32);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({16, 16});
    const std::size_t n = 3;
    Meeting meeting(n);
    std::vector<std::string> errors(n);
    std::vector<std::thread> members;
    for (std::size_t m = 0; m < n; ++m)
        members.emplace_back([&, m] {
            DecomposeOptions mine = o;
            mine.team = std::make_shared<ThreadTeam>(meeting, m);
            FailingRows rows(x);
            try {
                (void)decompose(rows, mine);
            } catch (const Error& e) {
                errors[m] = e.what();
            }
        });
    for (auto& t : members) t.join();
    for (const std::string& e : errors) BOOST_TEST(e == "cannot read rows past 48");
}

BOOST_AUTO_TEST_SUITE_END()

// Matricizations: the spelling, the default split and the data movement,
// checked against the definition entry by entry.
#include <boost/test/unit_test.hpp>

#include <numeric>
#include <string>

#include "signcut/error.hpp"
#include "signcut/matricization.hpp"

using namespace signcut;

namespace {

void expect_refusal(const std::string& text, std::size_t order, const std::string& fragment)
{
    try {
        (void)Matricization::parse(text, order);
        BOOST_ERROR("'" << text << "' was accepted");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(errc::invalid_argument));
        BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(matricization)

BOOST_AUTO_TEST_CASE(parses_and_prints)
{
    const Matricization m = Matricization::parse("0,1|2,3", 4);
    BOOST_TEST(m.row_modes == (std::vector<std::size_t>{0, 1}));
    BOOST_TEST(m.col_modes == (std::vector<std::size_t>{2, 3}));
    BOOST_TEST(m.to_string() == "0,1|2,3");
    BOOST_TEST(m.is_contiguous());
    const Matricization p = Matricization::parse("2,0|1", 3);
    BOOST_TEST(p.to_string() == "2,0|1");
    BOOST_TEST(!p.is_contiguous());
    BOOST_TEST(Matricization::parse("0|", 1).to_string() == "0|");

    expect_refusal("0,1,2", 3, "exactly one '|'");
    expect_refusal("0|1|2", 3, "exactly one '|'");
    expect_refusal("0,0|1", 3, "twice");
    expect_refusal("0|2", 3, "leaves out mode 1");
    expect_refusal("0|x", 2, "'x' is not a mode number");
    expect_refusal("0,|1", 2, "not a mode number");
    expect_refusal("0|5", 2, "mode 5");
}

BOOST_AUTO_TEST_CASE(default_split_is_closest_to_square)
{
    BOOST_TEST(Matricization::closest_to_square(Shape{512, 512}).to_string() == "0|1");
    BOOST_TEST(Matricization::closest_to_square(Shape{300, 451, 3}).to_string() == "0|1,2");
    BOOST_TEST(Matricization::closest_to_square(Shape{2, 3, 4, 5}).to_string() == "0,1|2,3");
    BOOST_TEST(Matricization::closest_to_square(Shape{64, 64, 2}).to_string() == "0|1,2");  // 64x128 beats 4096x2
    BOOST_TEST(Matricization::closest_to_square(Shape{7}).to_string() == "0|");
    const Shape s{300, 451, 3};
    const Matricization m = Matricization::closest_to_square(s);
    BOOST_TEST(m.rows(s) == 300u);
    BOOST_TEST(m.cols(s) == 1353u);
}

BOOST_AUTO_TEST_CASE(moves_every_entry_where_the_definition_says)
{
    const Shape shape{3, 4, 5, 2};
    std::vector<float> x(3 * 4 * 5 * 2);
    std::iota(x.begin(), x.end(), 0.0f);
    for (const char* text : {"0,1|2,3", "2,0|3,1", "3|0,1,2", "1,2,3,0|", "|3,2,1,0"}) {
        BOOST_TEST_CONTEXT(text)
        {
            const Matricization m = Matricization::parse(text, 4);
            const std::size_t cols = m.cols(shape);
            const std::vector<float> a = matricize(x.data(), shape, m);
            BOOST_TEST_REQUIRE(a.size() == x.size());
            for (std::size_t i0 = 0; i0 < 3; ++i0)
                for (std::size_t i1 = 0; i1 < 4; ++i1)
                    for (std::size_t i2 = 0; i2 < 5; ++i2)
                        for (std::size_t i3 = 0; i3 < 2; ++i3) {
                            const std::size_t index[] = {i0, i1, i2, i3};
                            std::size_t row = 0, col = 0;
                            for (const std::size_t a_ : m.row_modes) row = row * shape[a_] + index[a_];
                            for (const std::size_t a_ : m.col_modes) col = col * shape[a_] + index[a_];
                            const std::size_t t = ((i0 * 4 + i1) * 5 + i2) * 2 + i3;
                            BOOST_TEST_REQUIRE(a[row * cols + col] == x[t]);
                        }
            std::vector<float> back(x.size(), -1.0f);
            unmatricize(a.data(), shape, m, back.data());
            BOOST_TEST(back == x, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

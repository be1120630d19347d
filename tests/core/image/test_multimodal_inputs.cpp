// prepare_inputs on the fixture: the case-1 conversation given as image files yields exactly
// case1.input_ids, case1.pixel_values (within 1e-5) and case1.grid_thw; an agent conversation with image
// files gets its pad counts from preprocessing; a missing image is an error naming it.
#include <QtTest>

#include <cmath>

#include "core/image/multimodal_inputs.h"
#include "core/util/safetensors.h"

using namespace matrix;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";
}

class TestMultimodalInputs : public QObject {
    Q_OBJECT
    std::optional<tok::Tokenizer> m_tok;
    std::shared_ptr<SafetensorsFile> m_ref;
    vision::PreprocessConfig m_cfg;

private slots:
    void initTestCase() {
        auto t = tok::Tokenizer::load(k_fixture + "/tiny-qwen2vl");
        auto f = SafetensorsFile::open(k_fixture + "/reference.safetensors");
        QVERIFY(t.ok() && f.ok());
        m_tok = *t;
        m_ref = *f;
        m_cfg.min_pixels = 3136;
        m_cfg.max_pixels = 125440;
    }

    void case1_from_files() {
        tok::ChatMessage user{"user", {tok::ContentPart::make_image_file(k_fixture + "/img_a.png"),
                                       tok::ContentPart::make_image_file(k_fixture + "/img_b.png"),
                                       tok::ContentPart::make_text("Task: How many objects are in the two pictures?\n"
                                                                   "Attachment: img_a.png; img_b.png")}};
        auto in = vision::prepare_inputs(*m_tok, {user}, m_cfg);
        QVERIFY2(in.ok(), in.ok() ? "" : in.error().to_string().c_str());
        const TensorView* ids = m_ref->find("case1.input_ids");
        QCOMPARE(in->input_ids.size(), size_t(ids->numel()));
        for (size_t i = 0; i < in->input_ids.size(); ++i)
            QCOMPARE(int64_t(in->input_ids[i]), reinterpret_cast<const int64_t*>(ids->data)[i]);
        const TensorView* pv = m_ref->find("case1.pixel_values");
        QCOMPARE(pv->shape, (std::vector<int64_t>{in->images.n_patches, in->images.patch_dim}));
        double max_abs = 0;
        for (int64_t i = 0; i < pv->numel(); ++i)
            max_abs = std::max(max_abs, double(std::fabs(in->images.pixel_values[size_t(i)] -
                                                         reinterpret_cast<const float*>(pv->data)[i])));
        QVERIFY(max_abs <= 1e-5);
        const int64_t* g = reinterpret_cast<const int64_t*>(m_ref->find("case1.grid_thw")->data);
        QCOMPARE(in->images.grid_thw.size(), size_t(2));
        for (int r = 0; r < 2; ++r)
            for (int k = 0; k < 3; ++k) QCOMPARE(in->images.grid_thw[size_t(r)][size_t(k)], g[r * 3 + k]);
    }

    void agent_with_files() {
        conversation::AgentConversation c;
        c.system = "Agent rules.";
        c.image_paths = {k_fixture + "/img_c.png"};
        c.task = "Task: describe.";
        c.add_generation_prompt = true;
        auto in = vision::prepare_agent_inputs(*m_tok, c, m_cfg);
        QVERIFY2(in.ok(), in.ok() ? "" : in.error().to_string().c_str());
        QCOMPARE(int(std::count(in->input_ids.begin(), in->input_ids.end(), m_tok->special_ids().image_pad)),
                 18 * 24 / 4);
        QCOMPARE(in->images.n_patches, int64_t(432));
    }

    void missing_image_named() {
        tok::ChatMessage user{"user", {tok::ContentPart::make_image_file("/no/such/pic.jpg"),
                                       tok::ContentPart::make_text("hi")}};
        auto in = vision::prepare_inputs(*m_tok, {user}, m_cfg);
        QVERIFY(!in.ok());
        QVERIFY(in.error().to_string().find("/no/such/pic.jpg") != std::string::npos);
        // Without prepare_inputs, an image part with no pad count is refused by encode_chat.
        auto enc = tok::encode_chat(*m_tok, {user});
        QVERIFY(!enc.ok());
        QVERIFY(enc.error().message.find("preprocess it first") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestMultimodalInputs)
#include "test_multimodal_inputs.moc"

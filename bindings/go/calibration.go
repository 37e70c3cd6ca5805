package gptq

import "libgptq.dev/gptq/internal/raw"

// Calibration holds the token sequences the GPTQ quantizer runs through the model.
type Calibration struct {
	h *handle[raw.Struct_SS_gptq_calibration]
}

func newCalibration(c raw.Struct_SS_gptq_calibration, err error) (*Calibration, error) {
	if err != nil {
		return nil, err
	}
	h := newHandle(c, raw.Calibration_free)
	return owned(&Calibration{h}, h), nil
}

// NewCalibration is an empty set; add samples with Add.
func NewCalibration() (*Calibration, error) {
	return newCalibration(call(raw.Calibration_new))
}

// CalibrationFromText takes samples windows of seqlen tokens at seeded
// random offsets of the text, tokenized once without BOS.
func (m *Model) CalibrationFromText(text string, samples, seqlen int, seed int64) (*Calibration, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (*Calibration, error) {
		return newCalibration(call(func() raw.Struct_SS_gptq_calibration {
			return raw.Calibration_from_text(h, text, samples, seqlen, seed)
		}))
	})
}

// CalibrationFromTexts takes one sample per text, with BOS, cut to seqlen tokens.
func (m *Model) CalibrationFromTexts(texts []string, seqlen int) (*Calibration, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (*Calibration, error) {
		return newCalibration(call(func() raw.Struct_SS_gptq_calibration {
			return withStrings(texts, func(list raw.Gptqb_strings) raw.Struct_SS_gptq_calibration {
				return raw.Calibration_from_texts(h, list, seqlen)
			})
		}))
	})
}

// CalibrationFromFile reads a .jsonl file (one sample per line's "text" or
// "input_ids", at most samples) or plain text (random windows as
// CalibrationFromText).
func (m *Model) CalibrationFromFile(path string, samples, seqlen int, seed int64) (*Calibration, error) {
	return use(m.h, func(h raw.Struct_SS_gptq_model) (*Calibration, error) {
		return newCalibration(call(func() raw.Struct_SS_gptq_calibration {
			return raw.Calibration_from_file(h, path, samples, seqlen, seed)
		}))
	})
}

// Add adds one sample (copied).
func (c *Calibration) Add(tokens []int32) error {
	_, err := use(c.h, func(h raw.Struct_SS_gptq_calibration) (struct{}, error) {
		return struct{}{}, do(func() { raw.Calibration_add(h, tokens) })
	})
	return err
}

// Len is the number of samples.
func (c *Calibration) Len() (int, error) {
	return use(c.h, func(h raw.Struct_SS_gptq_calibration) (int, error) {
		return raw.Calibration_count(h), nil
	})
}

// Close releases the samples.
func (c *Calibration) Close() error { return c.h.close() }

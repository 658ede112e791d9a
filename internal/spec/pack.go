package spec

// PackFormat is the value of the `accord` key of a pack.yaml.
const PackFormat = "pack/v1"

// Pack is a preset: contracts installed together with a recommended
// configuration.
type Pack struct {
	Meta        Meta     `yaml:"-" json:"-"`
	Dir         string   `yaml:"-" json:"-"`
	Accord      string   `yaml:"accord" jsonschema:"required,enum=pack/v1"`
	Name        string   `yaml:"name" jsonschema:"required"`
	Title       string   `yaml:"title" jsonschema:"required"`
	Description string   `yaml:"description"`
	Contracts   []string `yaml:"contracts" jsonschema:"required"`
	// PrivacyURL and SupportURL are linked from the marketplace review
	// document (accord contract review).
	PrivacyURL string `yaml:"privacy_url" jsonschema_description:"privacy policy page, linked from the marketplace review"`
	SupportURL string `yaml:"support_url" jsonschema_description:"support page, linked from the marketplace review"`
	// Recommended is the configuration offered by default at install.
	Recommended []*Recommendation `yaml:"recommended"`
}

// Recommendation is the recommended configuration of one contract.
type Recommendation struct {
	Meta     Meta   `yaml:"-" json:"-"`
	Contract string `yaml:"contract" jsonschema:"required"`
	Enabled  bool   `yaml:"enabled"`
	// Defaults overrides mapping defaults, keyed action.field
	// (notify_chat.channel: support-escalations).
	Defaults map[string]any `yaml:"defaults"`
	// Rollout is the first cohort: internal, beta or ga.
	Rollout string `yaml:"rollout" jsonschema:"enum=internal,enum=beta,enum=ga"`
}

package ussd

import (
	_ "embed"
)

// builtinYAML is the menu set served when menus.path is empty; operators
// copy it as the starting point for their own.
//
//go:embed menus/karyashala.yaml
var builtinYAML []byte

// BuiltinName is how problems in the built-in menus name their file.
const BuiltinName = "builtin:karyashala.yaml"

// BuiltinSource returns the built-in menus' YAML.
func BuiltinSource() Source { return Source{Name: BuiltinName, Data: builtinYAML} }

// LoadBuiltin parses and checks the built-in menus against opt (they must
// cover its languages and fit its page limits like any other menus).
func LoadBuiltin(opt Options) (*Menus, Problems) {
	return Parse([]Source{BuiltinSource()}, opt)
}

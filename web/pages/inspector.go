package pages

// inspectorRoutes are the pages of inspectors (HM Inspectorate of
// Probation). Each route with a Nav label appears in their navigation; the
// one marked Home is where "/" sends them.
func (s *server) inspectorRoutes() []route {
	return nil
}

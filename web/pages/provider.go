package pages

// providerRoutes are the pages of probation providers.
func (s *server) providerRoutes() []route {
	return nil
}

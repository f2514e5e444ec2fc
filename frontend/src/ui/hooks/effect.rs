//! `use_effect_with` with its deps and effect type-erased.

use std::any::Any;
use std::rc::Rc;

use yew::functional::TearDown;
use yew::prelude::*;

/// Deps of any type that compare with deps of the same type.
trait AnyDeps {
    fn as_any(&self) -> &dyn Any;
    fn same(&self, other: &dyn Any) -> bool;
}

impl<D: PartialEq + 'static> AnyDeps for D {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn same(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<D>() == Some(self)
    }
}

/// Deps of any `PartialEq` type; equal when of the same type and equal.
#[derive(Clone)]
pub(crate) struct ErasedDeps(Rc<dyn AnyDeps>);

impl ErasedDeps {
    /// Wraps `deps`.
    pub(crate) fn new<D: PartialEq + 'static>(deps: D) -> Self {
        Self(Rc::new(deps))
    }

    /// The deps, when they are a `D`.
    fn get<D: 'static>(&self) -> Option<&D> {
        self.0.as_any().downcast_ref()
    }
}

impl PartialEq for ErasedDeps {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(other.0.as_any())
    }
}

type ErasedEffect = Box<dyn FnOnce(&ErasedDeps) -> Box<dyn FnOnce()>>;

/// Exactly `use_effect_with(deps, effect)`: runs `effect` after a render in which `deps`
/// changed, and its tear-down before the next run and on unmount.
///
/// yew's effect machinery is instantiated once for all uses instead of once per use,
/// which keeps the wasm smaller.
#[hook]
pub fn use_effect_on<T, F, D>(deps: T, effect: F)
where
    T: PartialEq + 'static,
    F: FnOnce(&T) -> D + 'static,
    D: TearDown,
{
    let effect: ErasedEffect = Box::new(move |deps: &ErasedDeps| {
        match deps.get::<T>() {
            Some(deps) => {
                let tear_down = effect(deps);
                Box::new(move || tear_down.tear_down())
            }
            // Unreachable: these deps were made from a `T` by this very call.
            None => Box::new(|| ()),
        }
    });
    use_effect_erased(ErasedDeps::new(deps), effect);
}

#[hook]
fn use_effect_erased(deps: ErasedDeps, effect: ErasedEffect) {
    use_effect_with(deps, move |deps| effect(deps));
}

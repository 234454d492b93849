;; straddle_guard: 1 blocks, 4 instructions, 0 stepped
(module $page_08048000
  (type (;0;) (func (param i32) (result i32)))
  (type (;1;) (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;2;) (func (param i32 i32) (result i32)))
  (type (;3;) (func (param i64 i64) (result i64 i64)))
  (type (;4;) (func (param i64 i64 i32 i32) (result i64 i32 i32)))
  (type (;5;) (func (param i64 i64) (result i64 i32)))
  (type (;6;) (func (param i64 i32) (result i64 i32)))
  (import "wax" "step" (func (;0;) (type 0)))
  (import "wax" "flags" (func (;1;) (type 1)))
  (import "wax" "fpu" (func (;2;) (type 2)))
  (import "wax" "mem" (memory (;0;) 1))
  (import "wax" "links" (table (;0;) 0 funcref))
  (export "run" (func 3))
  (func (;3;) (type 2) (param i32 i32) (result i32)
    (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i32 i32 i64 i64 i64 i64 i32 i32 i32 i32)
    i32.const 0
    i32.load
    local.set 2
    i32.const 0
    i32.load offset=4
    local.set 3
    i32.const 0
    i32.load offset=8
    local.set 4
    i32.const 0
    i32.load offset=12
    local.set 5
    i32.const 0
    i32.load offset=16
    local.set 6
    i32.const 0
    i32.load offset=20
    local.set 7
    i32.const 0
    i32.load offset=24
    local.set 8
    i32.const 0
    i32.load offset=28
    local.set 9
    i32.const 0
    i32.load offset=32
    local.set 10
    i32.const 0
    i32.load offset=32768
    local.set 13
    i32.const 0
    i64.load offset=32776
    local.set 27
    local.get 0
    local.set 11
    loop ;; label = @1
      block ;; label = @2
        block ;; label = @3
          block ;; label = @4
            loop ;; label = @5
              block ;; label = @6
                block ;; label = @7
                  local.get 11
                  br_table 0 (;@7;) 1 (;@6;)
                end
                local.get 27
                i64.const 4
                i64.lt_s
                if ;; label = @7
                  i32.const 0
                  local.set 11
                  br 4 (;@3;)
                end
                local.get 27
                i64.const 4
                i64.sub
                local.set 27
                local.get 2
                local.set 17
                local.get 3
                local.set 18
                local.get 17
                local.get 18
                i32.add
                local.set 16
                local.get 16
                local.set 2
                i32.const 1
                local.set 14
                i32.const 32
                local.set 15
                local.get 13
                i32.load offset=131364
                local.tee 20
                i32.const 4
                i32.and
                i32.eqz
                if ;; label = @7
                  i32.const 0
                  i64.const 137438953473
                  i64.store offset=40
                  i32.const 0
                  local.get 16
                  i32.store offset=48
                  i32.const 0
                  local.get 17
                  i32.store offset=52
                  i32.const 0
                  local.get 18
                  i32.store offset=56
                  i32.const 0
                  local.set 11
                  i32.const 134516734
                  local.set 10
                  br 3 (;@4;)
                end
                local.get 20
                i32.const -4096
                i32.and
                local.set 21
                local.get 21
                i64.load
                i64.const 16777215
                i64.and
                i64.const 4469538
                i64.ne
                if ;; label = @7
                  i32.const 0
                  i64.const 137438953473
                  i64.store offset=40
                  i32.const 0
                  local.get 16
                  i32.store offset=48
                  i32.const 0
                  local.get 17
                  i32.store offset=52
                  i32.const 0
                  local.get 18
                  i32.store offset=56
                  i32.const 0
                  local.set 11
                  i32.const 134516734
                  local.set 10
                  br 3 (;@4;)
                end
                i32.const 1144201745
                local.set 24
                local.get 24
                local.set 2
                i32.const 134516739
                local.set 10
                i32.const 0
                local.set 12
                i32.const 0
                i64.const 137438953473
                i64.store offset=40
                i32.const 0
                local.get 16
                i32.store offset=48
                i32.const 0
                local.get 17
                i32.store offset=52
                i32.const 0
                local.get 18
                i32.store offset=56
                br 4 (;@2;)
                unreachable
              end
              i32.const 0
              i32.load
              local.set 2
              i32.const 0
              i32.load offset=4
              local.set 3
              i32.const 0
              i32.load offset=8
              local.set 4
              i32.const 0
              i32.load offset=12
              local.set 5
              i32.const 0
              i32.load offset=16
              local.set 6
              i32.const 0
              i32.load offset=20
              local.set 7
              i32.const 0
              i32.load offset=24
              local.set 8
              i32.const 0
              i32.load offset=28
              local.set 9
              i32.const 0
              i32.load offset=32768
              local.set 13
              local.get 11
              i32.eqz
              br_if 0 (;@5;)
              i32.const 5
              local.set 12
              br 3 (;@2;)
            end
          end
          i32.const 6
          local.set 12
          br 1 (;@2;)
        end
        i32.const 1
        local.set 12
      end
      i32.const 0
      local.get 2
      i32.store
      i32.const 0
      local.get 10
      i32.store offset=32
      i32.const 0
      local.get 27
      i64.store offset=32776
      local.get 12
      i32.eqz
      if ;; label = @2
        local.get 10
        i32.const -1640531535
        i32.mul
        i32.const 20
        i32.shr_u
        i32.const 4
        i32.shl
        i32.const 65536
        i32.add
        local.set 24
        local.get 24
        i32.load
        local.get 10
        i32.eq
        local.get 24
        i32.load offset=4
        i32.const 0
        i32.load offset=32804
        i32.eq
        i32.and
        if ;; label = @3
          i32.const 0
          i32.const 0
          i32.load offset=32812
          i32.const 1
          i32.add
          i32.store offset=32812
          local.get 24
          i32.load offset=8
          local.get 1
          i32.eq
          if ;; label = @4
            i32.const 0
            i32.const 0
            i32.load offset=32816
            i32.const 1
            i32.add
            i32.store offset=32816
            local.get 24
            i32.load offset=12
            local.set 11
            br 3 (;@1;)
          end
          local.get 24
          i32.load offset=12
          local.get 24
          i32.load offset=8
          local.get 24
          i32.load offset=8
          return_call_indirect (type 2)
        end
      end
    end
    i32.const 0
    local.get 11
    i32.store offset=32796
    i32.const 0
    local.get 12
    i32.store offset=32772
    i32.const 0
    local.get 1
    i32.store offset=32808
    local.get 12
  )
  (func (;4;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;5;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4094
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;6;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4092
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;7;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;8;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4094
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;9;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4092
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
)
